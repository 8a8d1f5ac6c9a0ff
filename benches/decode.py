#!/usr/bin/env python3
"""Decoding speed of `droplake decode` on a fixed-length cp037 file.

    cargo build --release && python3 benches/decode.py [MB] [RUNS]

Generates MB megabytes (default 1,000) of 200-byte cp037 records with text,
zoned, packed and binary fields (benches/gen_transactions.py), then RUNS
times (default 5), in turn:
- `read`: `cat FILE > /dev/null`, the cost of reading the file alone (the
  baseline; the file is in the page cache after the first round);
- `decode --count`: droplake decodes every field of every record into its
  value (exact decimals, strings) and prints only the record count: the
  cost a loader pays before validating, single-threaded;
- `decode`: the same, printing JSON Lines to /dev/null.
Reports the median wall time of each and its MB/s (MB = 10^6 bytes of the
file), and the median CPU time (user + system, which other work on the
machine disturbs less). The binary is target/release/droplake, under
$CARGO_TARGET_DIR if set; the file goes under $BENCH_DIR (default /var/tmp).
"""
import os, resource, shutil, statistics, subprocess, sys, tempfile, time

megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
binary = os.path.join(target, "release/droplake")
if not os.path.exists(binary):
    sys.exit("build first: cargo build --release")


def timed(argv):
    """Wall and CPU seconds of one run, its standard output thrown away."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        done = subprocess.run(argv, stdout=null, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{argv[:2]} failed with {done.returncode}: {done.stderr[-2000:]!r}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


work = tempfile.mkdtemp(prefix="droplake-decode-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
try:
    data = os.path.join(work, "transactions.dat")
    copybook = os.path.join(work, "transactions.cpy")
    records = megabytes * 1_000_000 // 200
    subprocess.run([sys.executable, os.path.join(here, "gen_transactions.py"), str(records), data,
                    "--copybook", copybook], check=True)
    size = os.path.getsize(data) / 1e6
    variants = {
        "read (cat > /dev/null)": ["cat", data],
        "decode --count": [binary, "decode", "--count", "--copybook", copybook, data],
        "decode (JSON Lines)": [binary, "decode", "--copybook", copybook, data],
    }
    walls = {name: [] for name in variants}
    cpus = {name: [] for name in variants}
    timed(variants["read (cat > /dev/null)"])  # into the page cache
    for _ in range(runs):
        for name, argv in variants.items():
            wall, cpu = timed(argv)
            walls[name].append(wall)
            cpus[name].append(cpu)
    print(f"{records:,} records of 200 bytes ({size:.0f} MB), cp037, {runs} rounds, medians:")
    for name in variants:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(f"  {name:24} {wall:7.3f} s wall = {size / wall:7.1f} MB/s; "
              f"CPU {cpu:7.3f} s = {size / cpu if cpu else float('inf'):7.1f} MB/s")
finally:
    shutil.rmtree(work, ignore_errors=True)
