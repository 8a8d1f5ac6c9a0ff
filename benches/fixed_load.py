#!/usr/bin/env python3
"""Loading a cp037 fixed-width file against loading the same rows from CSV.

    cargo build --release && python3 benches/fixed_load.py [ROWS] [PAIRS]

Generates ROWS accounts (default 1,000,000) twice, with the same values: as
a fixed-length (F, LRECL 76) cp037 file whose numbers are packed (COMP-3)
and zoned decimals, and as CSV. The table `accounts` is made by
`droplake schema from-copybook`. Then, PAIRS times (default 5), alternately,
`droplake load` of each file into a fresh warehouse (each run hashes the
file, reads, validates every row against the schema and loads it in one
transaction). Reports the medians, rows/s, and fixed / CSV. The first pair's
tables are compared row by row: both formats must load the same rows.

The binary is $CARGO_TARGET_DIR/release/droplake (default target/).
"""
import os, shutil, sqlite3, statistics, subprocess, sys, tempfile, time

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
binary = os.path.join(target, "release/droplake")
if not os.path.exists(binary):
    sys.exit("build first: cargo build --release")

COPYBOOK = """\
       01  ACCOUNT-REC.
           05  ACCT-ID         PIC 9(10).
           05  CUST-NAME       PIC X(30).
           05  BRANCH          PIC X(4).
           05  BALANCE         PIC S9(11)V99 COMP-3.
           05  CREDIT-LIMIT    PIC S9(7)V99 COMP-3.
           05  RATE            PIC S9(3)V9(4).
           05  OPENED          PIC 9(8).
           05  TX-COUNT        PIC S9(7) COMP-3.
           05  STATUS          PIC X.
"""
LRECL = 76
COLUMNS = ["acct_id", "cust_name", "branch", "balance", "credit_limit", "rate",
           "opened", "tx_count", "status"]

CONFIG = """\
[datasets.fixed]
table = "accounts"
format = { type = "fixed", copybook = "accounts.cpy", recfm = "F", lrecl = 76, encoding = "cp037" }

[datasets.csv]
table = "accounts"
format = "csv"
"""


def packed(coefficient, digits):
    """A COMP-3 field of `digits` digits: digits then a C or D sign nibble."""
    length = digits // 2 + 1
    text = f"{abs(coefficient):0{length * 2 - 1}d}"
    nibbles = [int(c) for c in text] + [0xD if coefficient < 0 else 0xC]
    return bytes(nibbles[i] << 4 | nibbles[i + 1] for i in range(0, len(nibbles), 2))


def zoned(coefficient, digits, signed):
    """A zoned decimal: F-zoned EBCDIC digits, the sign overpunched last."""
    text = f"{abs(coefficient):0{digits}d}"
    out = bytearray(0xF0 | int(c) for c in text)
    if signed:
        out[-1] = (0xD0 if coefficient < 0 else 0xC0) | (out[-1] & 0x0F)
    return bytes(out)


def decimal(coefficient, scale):
    sign = "-" if coefficient < 0 else ""
    text = f"{abs(coefficient):0{scale + 1}d}"
    return f"{sign}{text[:-scale]}.{text[-scale:]}"


def generate(count, fixed_path, csv_path):
    names = ["ALICE SMITH", "BOB JONES", "CAROL O'NEIL", "DAVE MÜLLER", "ERIN WU",
             "FRANK", "GRACE HOPPER", "HEIDI KLUM-SCHMIDT"]
    branches = ["NYC1", "LDN2", "PAR3", "BER4", "TYO5"]
    with open(fixed_path, "wb") as fixed, open(csv_path, "w", encoding="utf-8") as csv:
        csv.write(",".join(COLUMNS) + "\n")
        for n in range(count):
            acct = 1_000_000 + n
            name = f"{names[n % len(names)]} {n % 997}"
            branch = branches[n % len(branches)]
            balance = (n * 7919 % 200_000_000) - 50_000_000
            limit = n * 104729 % 100_000_000
            rate = (n * 31 % 2_000_000) - 1_000_000
            opened = 19_700_101 + n % 560_000
            tx = n % 3_000_000 - 1_000
            status = "AIC"[n % 3]
            record = (zoned(acct, 10, False) + f"{name:<30}".encode("cp037")
                      + branch.encode("cp037") + packed(balance, 13) + packed(limit, 9)
                      + zoned(rate, 7, True) + zoned(opened, 8, False) + packed(tx, 7)
                      + status.encode("cp037"))
            assert len(record) == LRECL, len(record)
            fixed.write(record)
            csv.write(f"{acct},{name},{branch},{decimal(balance, 2)},{decimal(limit, 2)},"
                      f"{decimal(rate, 4)},{opened},{tx},{status}\n")


work = tempfile.mkdtemp(prefix="droplake-fixed-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
try:
    with open(os.path.join(work, "accounts.cpy"), "w") as out:
        out.write(COPYBOOK)
    with open(os.path.join(work, "droplake.toml"), "w") as out:
        out.write(CONFIG)
    os.makedirs(os.path.join(work, "schemas"))
    os.makedirs(os.path.join(work, "data"))
    fixed_file = os.path.join(work, "data", "ACCOUNTS.G0001V00")
    csv_file = os.path.join(work, "data", "accounts.csv")
    generate(rows, fixed_file, csv_file)
    base = dict(os.environ, DROPLAKE_CONFIG=os.path.join(work, "droplake.toml"),
                DROPLAKE_SCHEMAS=os.path.join(work, "schemas"))
    subprocess.run([binary, "schema", "from-copybook", os.path.join(work, "accounts.cpy"),
                    "--name", "accounts"], env=base, check=True)

    def load(kind, n, keep=False):
        run = os.path.join(work, f"{kind}{n}")
        os.makedirs(os.path.join(run, "lake", kind))
        source = fixed_file if kind == "fixed" else csv_file
        os.link(source, os.path.join(run, "lake", kind, os.path.basename(source)))
        env = dict(base, DROPLAKE_LAKE=os.path.join(run, "lake"),
                   DROPLAKE_WAREHOUSE=os.path.join(run, "warehouse.db"))
        start = time.perf_counter()
        out = subprocess.run([binary, "load", kind], env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if out.returncode != 0 or f"{rows} rows loaded" not in out.stdout:
            sys.exit(f"droplake load {kind} failed ({out.returncode}): {out.stdout[-2000:]}{out.stderr[-2000:]}")
        if not keep:
            shutil.rmtree(run)
        return seconds, os.path.join(run, "warehouse.db")

    fixed_times, csv_times = [], []
    for n in range(pairs):
        first = n == 0
        seconds, fixed_db = load("fixed", n, keep=first)
        fixed_times.append(seconds)
        seconds, csv_db = load("csv", n, keep=first)
        csv_times.append(seconds)
        if first:
            query = f"SELECT {', '.join(COLUMNS)} FROM accounts ORDER BY acct_id"
            a = sqlite3.connect(fixed_db).execute(query)
            b = sqlite3.connect(csv_db).execute(query)
            for row_a, row_b in zip(a, b):
                if row_a != row_b:
                    sys.exit(f"the formats loaded different rows: {row_a} != {row_b}")
            shutil.rmtree(os.path.dirname(fixed_db))
            shutil.rmtree(os.path.dirname(csv_db))
    f, c = statistics.median(fixed_times), statistics.median(csv_times)
    print(f"{rows} rows; fixed {os.path.getsize(fixed_file) / 1e6:.0f} MB, "
          f"CSV {os.path.getsize(csv_file) / 1e6:.0f} MB; {pairs} alternating pairs, medians")
    print(f"droplake load, cp037 fixed : {f:.3f} s  {rows / f:,.0f} rows/s")
    print(f"droplake load, CSV         : {c:.3f} s  {rows / c:,.0f} rows/s")
    print(f"fixed / CSV                : {f / c:.2f}x")
finally:
    shutil.rmtree(work, ignore_errors=True) if not os.environ.get("KEEP") else print(work)
