#!/usr/bin/env python3
"""What the progress bar costs a large `droplake load`.

    cargo build --release && python3 benches/progress.py [ROWS] [ROUNDS] [--baseline BINARY]

Generates ROWS orders (default 1,000,000; benches/gen_orders.py) into a
lake, then ROUNDS times (default 5), in turn, loads it into a fresh
warehouse with:
- `pipe`: target/release/droplake (under $CARGO_TARGET_DIR if set) with standard error on a pipe: no bar is
  drawn, but the reader still counts the bytes into a hidden one;
- `terminal`: the same binary on a pseudo-terminal (util-linux `script`),
  drawing the bar;
- `baseline` (with --baseline): another build, such as one from before
  progress bars existed, on a pipe.
Reports each variant's median wall time and CPU time (user + system, which
other work on the machine disturbs less), and its CPU time's ratio to `pipe`.
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument("rows", type=int, nargs="?", default=1_000_000)
parser.add_argument("rounds", type=int, nargs="?", default=5)
parser.add_argument("--baseline")
args = parser.parse_args()

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
binary = os.path.join(target, "release/droplake")
if not os.path.exists(binary):
    sys.exit("build first: cargo build --release")

work = tempfile.mkdtemp(prefix="droplake-progress-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
try:
    lake = os.path.join(work, "lake", "orders")
    os.makedirs(lake)
    data = os.path.join(lake, "orders.csv")
    subprocess.run([sys.executable, os.path.join(here, "gen_orders.py"), str(args.rows), data], check=True)
    env = dict(os.environ, DROPLAKE_LAKE=os.path.join(work, "lake"),
               DROPLAKE_WAREHOUSE=os.path.join(work, "warehouse.db"),
               DROPLAKE_SCHEMAS=os.path.join(root, "warehouse-schema"), TERM="xterm")

    def fresh():
        for suffix in ("", "-wal", "-shm"):
            path = os.path.join(work, "warehouse.db" + suffix)
            if os.path.exists(path):
                os.remove(path)

    def timed(command):
        """Wall time, CPU time (user + system, the process and the children
        it waited for: less sensitive to other work on the machine), output."""
        fresh()
        output = tempfile.TemporaryFile(dir=work)
        start = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdout=output, stderr=output)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode(errors="replace")
        if child.returncode != 0:
            sys.exit(f"{command} failed ({child.returncode}): {text[-2000:]}")
        return seconds, usage.ru_utime + usage.ru_stime, text

    variants = {
        "pipe": [binary, "load"],
        "terminal": ["script", "--quiet", "--return", "--command", f"{binary} load", "/dev/null"],
    }
    if args.baseline:
        variants["baseline"] = [args.baseline, "load"]
    walls = {name: [] for name in variants}
    cpus = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, command in variants.items():
            seconds, cpu, output = timed(command)
            if name == "terminal" and "B/s" not in output:
                sys.exit("no bar was drawn on the terminal")
            if name != "terminal" and "\r" in output:
                sys.exit(f"{name}: a bar was drawn on a pipe")
            walls[name].append(seconds)
            cpus[name].append(cpu)
    print(f"{args.rows:,} rows, {os.path.getsize(data) / 1e6:.0f} MB, {args.rounds} rounds")
    print("| variant | median wall | median CPU | CPU vs pipe | wall runs |")
    print("|---|---|---|---|---|")
    pipe = statistics.median(cpus["pipe"])
    for name in variants:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        listed = ", ".join(f"{run:.2f}" for run in walls[name])
        print(f"| {name} | {wall:.3f} s | {cpu:.3f} s | {cpu / pipe:.3f}× | {listed} |")
finally:
    shutil.rmtree(work, ignore_errors=True)
