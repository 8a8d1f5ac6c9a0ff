#!/usr/bin/env python3
"""Writes a large fixed-length EBCDIC (cp037) file of 200-byte records and
the copybook that describes them, for the mainframe benchmarks.

    python3 benches/gen_transactions.py RECORDS OUT.dat [--copybook OUT.cpy]

Each record mixes the field kinds mainframe files hold: text (names, codes,
a memo), zoned decimals (unsigned and with an overpunched sign), packed
decimals (COMP-3, up to 15 digits with decimals), and big-endian binary
(COMP, 2 to 8 bytes, one with implied decimals), plus a FILLER. 4,096
distinct records are made with a fixed seed and repeated to RECORDS, so the
bytes are the same for the same arguments and the file is written at disk
speed.
"""
import argparse, random

COPYBOOK = """\
       01  TXN-REC.
           05  TXN-ID          PIC 9(10).
           05  ACCOUNT-NO      PIC X(12).
           05  CUSTOMER-NAME   PIC X(30).
           05  BRANCH          PIC X(4).
           05  TXN-DATE        PIC 9(8).
           05  AMOUNT          PIC S9(11)V99 COMP-3.
           05  FEE             PIC S9(5)V99  COMP-3.
           05  BALANCE         PIC S9(13)V99 COMP-3.
           05  QUANTITY        PIC S9(7)     COMP.
           05  UNITS           PIC S9(4)     COMP.
           05  RATE            PIC S9(3)V9(6) COMP.
           05  SEQUENCE-NO     PIC S9(18)    COMP.
           05  ZONED-AMOUNT    PIC S9(9)V99.
           05  ZONED-QTY       PIC S9(5).
           05  STATUS-CODE     PIC X(2).
           05  CHANNEL         PIC X(8).
           05  MEMO            PIC X(40).
           05  CURRENCY        PIC X(3).
           05  FILLER          PIC X(30).
"""
LRECL = 200


def text(value, size):
    return value.ljust(size)[:size].encode("cp037")


def zoned(value, digits, signed):
    """Zoned decimal: F zones, the sign overpunched on the last digit (C/D)."""
    digits_text = str(abs(value)).rjust(digits, "0")
    body = bytearray(0xF0 | int(d) for d in digits_text)
    if signed:
        body[-1] = (0xD0 if value < 0 else 0xC0) | (body[-1] & 0x0F)
    return bytes(body)


def packed(value, digits):
    """COMP-3: digits then a sign nibble (C or D), two nibbles a byte."""
    nibbles = [int(d) for d in str(abs(value)).rjust(digits, "0")]
    nibbles.append(0xD if value < 0 else 0xC)
    if len(nibbles) % 2:
        nibbles.insert(0, 0)
    return bytes(nibbles[i] << 4 | nibbles[i + 1] for i in range(0, len(nibbles), 2))


def binary(value, size):
    return value.to_bytes(size, "big", signed=True)


def record(rng, number):
    first = rng.choice(["ADA", "GRACE", "ALAN", "EDSGER", "BARBARA", "DONALD", "FRANCES", "KEN"])
    last = rng.choice(["LOVELACE", "HOPPER", "TURING", "DIJKSTRA", "LISKOV", "KNUTH", "ALLEN"])
    sign = rng.choice([1, 1, 1, -1])
    out = b"".join([
        zoned(number, 10, False),
        text(f"AC{rng.randrange(10**10):010d}", 12),
        text(f"{first} {last}", 30),
        text(rng.choice(["LON1", "NYC2", "FRA3", "TKY4"]), 4),
        zoned(20250000 + rng.randrange(1, 13) * 100 + rng.randrange(1, 29), 8, False),
        packed(sign * rng.randrange(10**12), 13),
        packed(rng.randrange(10**6), 7),
        packed(sign * rng.randrange(10**14), 15),
        binary(sign * rng.randrange(10**7), 4),
        binary(rng.randrange(-9999, 10000), 2),
        binary(rng.randrange(10**9), 4),
        binary(number * 7919, 8),
        zoned(sign * rng.randrange(10**11), 11, True),
        zoned(rng.randrange(-99999, 100000), 5, True),
        text(rng.choice(["OK", "PD", "RJ", "HL"]), 2),
        text(rng.choice(["BRANCH", "ONLINE", "ATM", "MOBILE"]), 8),
        text(rng.choice(["", "MONTHLY FEE", "TRANSFER TO SAVINGS ACCOUNT", "CARD PAYMENT 4411"]), 40),
        text(rng.choice(["USD", "EUR", "GBP"]), 3),
        text("", 30),
    ])
    assert len(out) == LRECL, len(out)
    return out


parser = argparse.ArgumentParser()
parser.add_argument("records", type=int)
parser.add_argument("out")
parser.add_argument("--copybook")
args = parser.parse_args()

rng = random.Random(7)
pool = b"".join(record(rng, number + 1) for number in range(4096))
with open(args.out, "wb") as out:
    whole, rest = divmod(args.records, 4096)
    for _ in range(whole):
        out.write(pool)
    out.write(pool[: rest * LRECL])
if args.copybook:
    with open(args.copybook, "w") as out:
        out.write(COPYBOOK)
