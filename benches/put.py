#!/usr/bin/env python3
"""Throughput and peak memory of `droplake put`, against `dd conv=fsync`.

Both write the same file into the same filesystem and flush it to disk, so
the baseline is the cost of the copy and the fsync alone; droplake adds the
SHA-256 and the rename. Runs alternate (droplake, baseline, droplake, ...) so
that both see the same machine; the medians are reported.

    cargo build --release && python3 benches/put.py [SIZE_MIB] [RUNS]
"""
import os, shutil, statistics, subprocess, sys, tempfile, time

size_mib = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
binary = os.path.abspath("target/release/droplake")
if not os.path.exists(binary):
    sys.exit("build first: cargo build --release")

work = tempfile.mkdtemp(prefix="droplake-bench-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
try:
    source = os.path.join(work, "source.bin")
    with open(source, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(size_mib):
            f.write(block)
    os.makedirs(os.path.join(work, "lake"))

    def timed(argv):
        start = time.perf_counter()
        out = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, cwd=work,
                             capture_output=True, text=True, check=True)
        return time.perf_counter() - start, int(out.stderr.strip().splitlines()[-1])

    put, dd, rss = [], [], []
    for run in range(runs):
        seconds, kib = timed([binary, "put", "bench", source, "--name", f"run{run}.bin"])
        put.append(seconds)
        rss.append(kib)
        seconds, _ = timed(["dd", f"if={source}", f"of={work}/dd{run}.bin", "bs=256k", "conv=fsync", "status=none"])
        dd.append(seconds)
        shutil.rmtree(os.path.join(work, "lake", "bench"))
        os.remove(f"{work}/dd{run}.bin")

    mib = size_mib
    p, d = statistics.median(put), statistics.median(dd)
    print(f"file: {mib} MiB, {runs} alternating runs, medians")
    print(f"droplake put : {p:.3f} s  {mib / p:7.1f} MiB/s  peak RSS {max(rss) / 1024:.1f} MiB")
    print(f"dd conv=fsync: {d:.3f} s  {mib / d:7.1f} MiB/s")
    print(f"put / dd     : {p / d:.2f}x")
finally:
    shutil.rmtree(work, ignore_errors=True)
