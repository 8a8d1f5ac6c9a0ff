#!/usr/bin/env python3
"""Writes a large orders CSV for the validation and load benchmarks.

    python3 benches/gen_orders.py ROWS OUT.csv [--bad-every N]

The columns match warehouse-schema/orders.json: integer id (the primary key),
a short customer name, an email, a decimal amount, an integer quantity, an
ISO-8601 datetime with an offset, a 5-value status, and free text that often
holds quoted commas. About 115 bytes a row. With --bad-every N, every Nth row
carries one error (a bad amount, an unknown status, or a bad date), so the
error path is measured too. Deterministic: the same arguments give the same
bytes.
"""
import argparse, random

parser = argparse.ArgumentParser()
parser.add_argument("rows", type=int)
parser.add_argument("out")
parser.add_argument("--bad-every", type=int, default=0)
args = parser.parse_args()

rng = random.Random(42)
first = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis"]
last = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Ritchie"]
statuses = ["pending", "paid", "shipped", "delivered", "cancelled"]
notes = [
    "", "leave at the door", "\"gift wrap, please\"", "\"call first, then deliver\"",
    "fragile", "\"invoice to accounts, attention: J. Smith\"", "urgent",
]
offsets = ["Z", "+01:00", "-05:00", "+05:30"]

with open(args.out, "w", newline="") as out:
    out.write("id,customer,email,amount,quantity,ordered_at,status,note\n")
    lines = []
    for i in range(1, args.rows + 1):
        f, l = rng.choice(first), rng.choice(last)
        amount = f"{rng.randrange(1, 1_000_000) / 100:.2f}"
        status = rng.choice(statuses)
        month, day = rng.randrange(1, 13), rng.randrange(1, 29)
        ordered = (f"2026-{month:02d}-{day:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:"
                   f"{rng.randrange(60):02d}{rng.choice(offsets)}")
        if args.bad_every and i % args.bad_every == 0:
            kind = (i // args.bad_every) % 3
            if kind == 0:
                amount = "n/a"
            elif kind == 1:
                status = "refunded"
            else:
                ordered = "2026-13-01T00:00:00Z"
        lines.append(f"{i},{f} {l},{f.lower()}.{l.lower()}@example.com,{amount},{rng.randrange(1, 1001)},"
                     f"{ordered},{status},{rng.choice(notes)}\n")
        if len(lines) == 10_000:
            out.writelines(lines)
            lines.clear()
    out.writelines(lines)
