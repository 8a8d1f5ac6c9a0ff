#!/usr/bin/env python3
"""Validation speed and memory of `droplake validate`, against frictionless.

    cargo build --release && python3 benches/validate.py [ROWS] [RUNS]

Generates ROWS (default 1,000,000) orders with benches/gen_orders.py and
validates them against warehouse-schema/orders.json: RUNS times (default 5)
for rows/s and peak memory. Then, on the first 100,000 rows, alternates
droplake with `frictionless validate` (PyPI) of the same file and schema, and
reports the ratio of the medians. Needs GNU time (/usr/bin/time).
"""
import os, shutil, statistics, subprocess, sys, tempfile, time

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
binary = os.path.join(root, "target/release/droplake")
schema = os.path.join(root, "warehouse-schema/orders.json")
if not os.path.exists(binary):
    sys.exit("build first: cargo build --release")


def timed(argv, cwd):
    """Wall seconds and peak RSS (KiB) of one run; exit codes 0 and 1 are both fine."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if out.returncode not in (0, 1):
        sys.exit(f"{argv[0]} failed with {out.returncode}: {out.stderr[-2000:]}")
    return seconds, int(out.stderr.strip().splitlines()[-1])


work = tempfile.mkdtemp(prefix="droplake-bench-")
try:
    big = os.path.join(work, "orders.csv")
    subprocess.run([sys.executable, os.path.join(here, "gen_orders.py"), str(rows), big], check=True)
    size_mb = os.path.getsize(big) / 1e6
    droplake = [binary, "validate", "--schema", schema, "--json"]

    times, rss = [], []
    for _ in range(runs):
        seconds, kib = timed(droplake + [big], work)
        times.append(seconds)
        rss.append(kib)
    median = statistics.median(times)
    print(f"droplake validate: {rows} rows ({size_mb:.0f} MB), {runs} runs")
    print(f"  median {median:.3f} s = {rows / median:,.0f} rows/s, {size_mb / median:.0f} MB/s; "
          f"peak RSS {max(rss) / 1024:.1f} MiB")

    small = os.path.join(work, "orders-100k.csv")
    with open(big) as src, open(small, "w") as dst:
        for number, line in enumerate(src):
            if number > 100_000:
                break
            dst.write(line)
    if shutil.which("frictionless") is None:
        print("frictionless is not installed (pip install frictionless): no comparison")
        sys.exit(0)
    ours, theirs = [], []
    for _ in range(3):
        ours.append(timed(droplake + [small], work)[0])
        theirs.append(timed(["frictionless", "validate", "--trusted", "--json", "--schema", schema, small], work)[0])
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"100,000 rows, 3 alternating runs: droplake {a:.3f} s, frictionless {b:.3f} s: {b / a:.0f}x faster")
finally:
    shutil.rmtree(work, ignore_errors=True)
