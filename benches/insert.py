#!/usr/bin/env python3
"""`droplake insert` against `sqlite3 .import --csv` of the same file.

    cargo build --release && python3 benches/insert.py [ROWS] [PAIRS]

Generates ROWS orders (default 1,000,000; benches/gen_orders.py) and, PAIRS
times (default 5), alternately:
- droplake insert orders FILE, into a fresh lake and warehouse: it puts the
  raw file into the lake (copy, fsync, rename), validates every row against
  warehouse-schema/orders.json and loads the good ones in one transaction;
- sqlite3 .import --csv of the same file into a fresh database, into a table
  with the same columns, types and primary key, in WAL mode like droplake's.
Reports the medians, rows/s, the ratio, and droplake's peak memory.
"""
import os, shutil, statistics, subprocess, sys, tempfile, time

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
binary = os.path.join(root, "target/release/droplake")
if not os.path.exists(binary):
    sys.exit("build first: cargo build --release")

TABLE = """CREATE TABLE orders (
  id INTEGER NOT NULL, customer TEXT NOT NULL, email TEXT, amount TEXT NOT NULL,
  quantity INTEGER NOT NULL, ordered_at TEXT NOT NULL, status TEXT NOT NULL, note TEXT,
  PRIMARY KEY (id));"""

work = tempfile.mkdtemp(prefix="droplake-insert-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
try:
    data = os.path.join(work, "orders.csv")
    subprocess.run([sys.executable, os.path.join(here, "gen_orders.py"), str(rows), data], check=True)

    def droplake_run(n):
        run = os.path.join(work, f"d{n}")
        os.makedirs(os.path.join(run, "lake"))
        env = dict(os.environ, DROPLAKE_LAKE=os.path.join(run, "lake"),
                   DROPLAKE_WAREHOUSE=os.path.join(run, "warehouse.db"),
                   DROPLAKE_SCHEMAS=os.path.join(root, "warehouse-schema"))
        start = time.perf_counter()
        out = subprocess.run(["/usr/bin/time", "-f", "%M", binary, "insert", "orders", data],
                             env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if out.returncode != 0:
            sys.exit(f"droplake insert failed ({out.returncode}): {out.stderr[-2000:]}")
        shutil.rmtree(run)
        return seconds, int(out.stderr.strip().splitlines()[-1])

    def sqlite_run(n):
        db = os.path.join(work, f"s{n}.db")
        script = f"PRAGMA journal_mode=WAL;\n{TABLE}\n.import --csv --skip 1 {data} orders\n"
        start = time.perf_counter()
        subprocess.run(["sqlite3", db], input=script, text=True, check=True, capture_output=True)
        seconds = time.perf_counter() - start
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        return seconds

    ours, theirs, rss = [], [], []
    for n in range(pairs):
        seconds, kib = droplake_run(n)
        ours.append(seconds)
        rss.append(kib)
        theirs.append(sqlite_run(n))
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"{rows} rows, {os.path.getsize(data) / 1e6:.0f} MB, {pairs} alternating pairs, medians")
    print(f"droplake insert   : {a:.3f} s  {rows / a:,.0f} rows/s  peak RSS {max(rss) / 1024:.1f} MiB")
    print(f"sqlite3 .import   : {b:.3f} s  {rows / b:,.0f} rows/s")
    print(f"insert / .import  : {a / b:.2f}x")
finally:
    shutil.rmtree(work, ignore_errors=True)
