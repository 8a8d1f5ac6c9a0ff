#!/usr/bin/env python3
"""The daemon (`droplake run`): reaction latency, a storm of files, idle cost.

    cargo build --release && python3 benches/daemon.py [--drops N] [--storm FILES] [--idle OBJECTS]

Each part runs a real `droplake run` in its own fresh directory (lake,
schemas, warehouse.db, droplake.toml) under $BENCH_DIR (default /var/tmp),
with the default [detect] settings (auto: inotify plus a scan every 60 s).
All times are wall-clock (CLOCK_REALTIME, the clock the ledger's RFC 3339
timestamps come from), so the script's clock and the daemon's are the same.

1. Latency (--drops, default 1,000; --spacing-ms, default 20). One-row CSV
   files are written to a staging directory on the same filesystem first;
   then, one at a time, the script takes time.time_ns() and renames a file
   into lake/lat/, and waits --spacing-ms before the next, so each drop is
   handled alone. Per file, from the rename:
   - to its `object.arrived` event (`_droplake_events.at`: noticed, hashed,
     registered in the ledger);
   - to the loader starting (`_droplake_attempts.started_at` of handler
     'loader', taken on the loader thread as it picks the job up);
   - to a command handler's process running: the handler is
     `/usr/bin/date +%s.%N`, run directly (no shell); the daemon stores its
     stdout in `_droplake_attempts.stdout`, so the figure is the moment
     `date` read the clock, i.e. it includes fork/exec, the dynamic loader
     and date's own start-up. The baseline, measured in the same run, is the
     same from Python: time.time_ns() before subprocess.run([date, ...]) to
     the time date prints.
   Baseline for noticing, at the same moments: a Python thread blocked on
   inotify for the same directory stamps each rename event as it wakes.
   The first --warmup drops (default 10; the first load creates the table)
   are left out.
2. Storm (--storm, default 10,000 files of 10 rows). The files are staged,
   the daemon started and its startup scan awaited; then all are renamed
   into lake/storm/ in a tight loop, and a read-only sqlite3 connection
   polls count(*) every 20 ms until every row is in the table. Baseline in
   the same run: `droplake load` of the same files, already in a fresh lake
   (the same loads, without detection or the daemon's ledger of jobs).
3. Idle (--idle, default 100,000 objects of one row, in 100 partition
   directories). They are generated and processed with `droplake run
   --once` (timed, for information); then `droplake run` is started on the
   same lake and warehouse. Reported: from spawning the process to the log
   line "Starting the daemon." (ledger opened, known files loaded), and to
   `_droplake_daemon.last_scan_at` being set (the first full scan of the
   lake is done: reconciliation); then, once it is quiet, the CPU time the
   process used (utime + stime from /proc/PID/stat) over --idle-seconds
   (default 60: the window includes the periodic full scan), as % of one
   core. Baseline for the scan: `find` stating every file of the same lake.
   Then the daemon is stopped, one more file (the sentinel, mtime an hour
   old) is put into the lake, and it is started again: from the spawn to
   the sentinel's loader starting, whether the daemon fell back to polling,
   and its CPU over the next 10 s.
"""
import argparse, calendar, ctypes, os, shutil, signal, sqlite3, statistics, subprocess, sys
import tempfile, threading, time

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--drops", type=int, default=1000)
parser.add_argument("--spacing-ms", type=float, default=20)
parser.add_argument("--warmup", type=int, default=10)
parser.add_argument("--storm", type=int, default=10_000, help="files of 10 rows")
parser.add_argument("--idle", type=int, default=100_000, help="objects already processed")
parser.add_argument("--idle-seconds", type=float, default=60)
parser.add_argument("--only", default="latency,storm,idle")
parser.add_argument("--keep", action="store_true", help="keep the work directory")
args = parser.parse_args()

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target")), "release/droplake")
if not os.path.exists(binary):
    sys.exit("build first: cargo build --release")
DATE = "/usr/bin/date"
SCHEMA = '{"fields": [{"name": "id", "type": "integer"}, {"name": "v", "type": "string"}],' \
         ' "primaryKey": "id"}\n'


def ns_of(rfc3339):
    """2026-11-26T12:35:09.607155877Z -> nanoseconds since the epoch."""
    text = rfc3339.rstrip("Z")
    whole, _, fraction = text.partition(".")
    seconds = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    return seconds * 1_000_000_000 + int((fraction + "000000000")[:9])


def pct(values, p):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))]


def ms(ns):
    return ns / 1e6


class Setup:
    """A fresh directory with a lake, schemas, a configuration, a warehouse."""

    def __init__(self, name, tables, config=""):
        self.dir = os.path.join(work, name)
        os.makedirs(os.path.join(self.dir, "warehouse-schema"))
        os.makedirs(os.path.join(self.dir, "staging"))
        for table in tables:
            os.makedirs(os.path.join(self.dir, "lake", table))
            with open(os.path.join(self.dir, "warehouse-schema", table + ".json"), "w") as f:
                f.write(SCHEMA)
        with open(os.path.join(self.dir, "droplake.toml"), "w") as f:
            f.write(config)
        self.db = os.path.join(self.dir, "warehouse.db")
        self.proc = None

    def env(self, log="info"):
        return dict(os.environ, DROPLAKE_LOG=log, NO_COLOR="1")

    def start(self):
        self.log = open(os.path.join(self.dir, "daemon.log"), "w")
        self.spawned_ns = time.time_ns()
        self.proc = subprocess.Popen([binary, "run"], cwd=self.dir, env=self.env(),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines = []  # (time_ns, line)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append((time.time_ns(), line))
            self.log.write(line)

    def first_line(self, text):
        return next((at for at, line in self.lines if text in line), None)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        time.sleep(0.1)
        self.log.close()

    def query(self, sql, params=()):
        """Read-only SQL on the warehouse; None while the table is missing."""
        connection = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return connection.execute(sql, params).fetchall()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return None
            raise
        finally:
            connection.close()

    def wait_for(self, sql, done, timeout, every=0.01):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.db):
                rows = self.query(sql)
                if rows is not None and done(rows):
                    return time.time_ns(), rows
            if self.proc is not None and self.proc.poll() is not None:
                sys.exit(f"the daemon ended ({self.proc.returncode}); see {self.dir}/daemon.log")
            time.sleep(every)
        sys.exit(f"timed out waiting for: {sql}")

    def scanned(self):
        """Waits until this daemon's first full scan is done."""
        return self.wait_for(f"SELECT last_scan_at FROM _droplake_daemon WHERE pid = {self.proc.pid}",
                             lambda rows: rows and rows[0][0], 120)


class Inotify:
    """The baseline for noticing: a Python thread blocked on inotify (the
    same kernel events the daemon watches), stamping each IN_MOVED_TO."""

    def __init__(self, directory):
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(0)
        if self.fd < 0 or libc.inotify_add_watch(self.fd, directory.encode(), 0x80) < 0:
            sys.exit("inotify failed")
        self.seen = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            data = os.read(self.fd, 65536)
            at = time.time_ns()
            offset = 0
            while offset < len(data):
                length = int.from_bytes(data[offset + 12:offset + 16], "little")
                name = data[offset + 16:offset + 16 + length].rstrip(b"\0").decode()
                self.seen[name] = at
                offset += 16 + length


def latency():
    config = f'[[handlers]]\nname = "stamp"\ndatasets = ["lat"]\ncommand = ["{DATE}", "+%s.%N"]\n'
    s = Setup("latency", ["lat"], config)
    total = args.warmup + args.drops
    for i in range(total):
        with open(os.path.join(s.dir, "staging", f"f{i:06}.csv"), "w") as f:
            f.write(f"id,v\n{i},drop {i}\n")
    s.start()
    s.scanned()
    watcher = Inotify(os.path.join(s.dir, "lake/lat"))
    renamed = {}
    spacing = args.spacing_ms / 1000
    for i in range(total):
        name = f"f{i:06}.csv"
        source, target = os.path.join(s.dir, "staging", name), os.path.join(s.dir, "lake/lat", name)
        renamed["lat/" + name] = time.time_ns()
        os.rename(source, target)
        time.sleep(spacing)
    s.wait_for("SELECT count(*) FROM _droplake_objects WHERE finished_at IS NOT NULL",
               lambda rows: rows[0][0] >= total, 120)
    s.stop()
    # The same in Python, in the same run: spawn date and read its clock.
    baseline = []
    for _ in range(min(args.drops, 300)):
        before = time.time_ns()
        out = subprocess.run([DATE, "+%s.%N"], capture_output=True, text=True, check=True).stdout
        whole, fraction = out.strip().split(".")
        baseline.append(int(whole) * 1_000_000_000 + int(fraction) - before)
        time.sleep(spacing)
    arrived = dict(s.query("SELECT o.name, e.at FROM _droplake_events e JOIN _droplake_objects o"
                           " ON o.id = e.object_id WHERE e.kind = 'object.arrived'"))
    loader, spawn, command = {}, {}, {}
    for name, handler, started_at, stdout, outcome in s.query(
            "SELECT o.name, a.handler, a.started_at, a.stdout, a.outcome FROM _droplake_attempts a"
            " JOIN _droplake_objects o ON o.id = a.object_id WHERE a.attempt = 1"):
        if outcome != "done":
            sys.exit(f"{name}: {handler} ended {outcome}")
        if handler == "loader":
            loader[name] = ns_of(started_at)
        else:
            spawn[name] = ns_of(started_at)
            whole, fraction = bytes(stdout).decode().strip().split(".")
            command[name] = int(whole) * 1_000_000_000 + int(fraction)
    measured = [f"lat/f{i:06}.csv" for i in range(args.warmup, total)]
    missing = [n for n in measured if n not in loader or n not in command or n not in arrived]
    if missing:
        sys.exit(f"{len(missing)} drops have no attempt, e.g. {missing[:3]}")

    def row(label, values):
        return (label, ms(statistics.median(values)), ms(pct(values, 99)), ms(max(values)))

    return [
        row("baseline: rename -> python inotify reader",
            [watcher.seen[n[4:]] - renamed[n] for n in measured]),
        row("rename -> object.arrived", [ns_of(arrived[n]) - renamed[n] for n in measured]),
        row("rename -> loader started", [loader[n] - renamed[n] for n in measured]),
        row("rename -> command spawned (ledger)", [spawn[n] - renamed[n] for n in measured]),
        row("rename -> command running (date's clock)", [command[n] - renamed[n] for n in measured]),
        row("baseline: python spawn -> date's clock", baseline),
    ]


def stage(directory, files, rows, stem="f"):
    os.makedirs(directory, exist_ok=True)
    for i in range(files):
        lines = "".join(f"{i * rows + r},row {r} of file {i}\n" for r in range(rows))
        with open(os.path.join(directory, f"{stem}{i:06}.csv"), "w") as f:
            f.write("id,v\n" + lines)


def storm():
    files, rows = args.storm, 10
    s = Setup("storm", ["storm"])
    stage(os.path.join(s.dir, "staging"), files, rows)
    s.start()
    s.scanned()
    names = sorted(os.listdir(os.path.join(s.dir, "staging")))
    start = time.time_ns()
    for name in names:
        os.rename(os.path.join(s.dir, "staging", name), os.path.join(s.dir, "lake/storm", name))
    renamed = time.time_ns()
    end, _ = s.wait_for("SELECT count(*) FROM storm", lambda r: r[0][0] >= files * rows, 600, every=0.02)
    s.stop()
    lost = sum("Events were lost" in line for _, line in s.lines)
    objects = s.query("SELECT count(*), sum(rows_loaded), sum(rows_rejected) FROM _droplake_objects")[0]
    # Baseline: the same files, already in a fresh lake, loaded by `droplake load`.
    b = Setup("storm-load", ["storm"])
    stage(os.path.join(b.dir, "lake/storm"), files, rows)
    before = time.time_ns()
    subprocess.run([binary, "load"], cwd=b.dir, env=b.env("warn"), check=True,
                   stdout=subprocess.DEVNULL)
    load_ns = time.time_ns() - before
    loaded = b.query("SELECT count(*) FROM storm")[0][0]
    return {"files": files, "rows": files * rows, "rename_loop": renamed - start,
            "all_rows": end - start, "rescans": lost, "objects": objects,
            "load": load_ns, "load_rows": loaded}


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def idle():
    objects = args.idle
    s = Setup("idle", ["idle"])
    lake = os.path.join(s.dir, "lake/idle")
    per_dir = 1000
    old = time.time() - 3600
    for d in range((objects + per_dir - 1) // per_dir):
        directory = os.path.join(lake, f"dt=2026-{1 + d // 28 % 12:02}-{1 + d % 28:02}")
        os.makedirs(directory)
        for i in range(d * per_dir, min(objects, (d + 1) * per_dir)):
            path = os.path.join(directory, f"o{i:06}.csv")
            with open(path, "w") as f:
                f.write(f"id,v\n{i},object {i}\n")
            os.utime(path, (old, old))
    before = time.time_ns()
    once = subprocess.run([binary, "run", "--once"], cwd=s.dir, env=s.env("warn"),
                          capture_output=True, text=True)
    once_ns = time.time_ns() - before
    if once.returncode != 0:
        sys.exit(f"run --once failed ({once.returncode}): {once.stderr[-2000:]}")
    done = s.query("SELECT count(*) FROM _droplake_objects WHERE state = 'done'")[0][0]
    # Baseline: stat every file of the lake once (what a scan cannot avoid).
    before = time.time_ns()
    subprocess.run(["find", lake, "-type", "f", "-printf", "%s %T@ %i\n"], check=True,
                   stdout=subprocess.DEVNULL)
    find_ns = time.time_ns() - before
    hz = os.sysconf("SC_CLK_TCK")
    # First start: nothing new in the lake; reconciliation, then idle CPU.
    s.start()
    _, rows = s.scanned()
    scanned = ns_of(rows[0][0]) - s.spawned_ns
    starting = s.first_line("Starting the daemon.") - s.spawned_ns
    startup_cpu = cpu_ticks(s.proc.pid) / hz
    time.sleep(2)
    t0, c0 = time.monotonic(), cpu_ticks(s.proc.pid)
    time.sleep(args.idle_seconds)
    t1, c1 = time.monotonic(), cpu_ticks(s.proc.pid)
    scans = s.query(f"SELECT last_scan_at FROM _droplake_daemon WHERE pid = {s.proc.pid}")[0][0]
    with open(f"/proc/{s.proc.pid}/status") as f:
        rss = next(line.split()[1] for line in f if line.startswith("VmRSS"))
    polls = any("polling the lake" in line for _, line in s.lines)
    s.stop()
    # Second start: one file (the sentinel) arrived while the daemon was down.
    sentinel = os.path.join(lake, "sentinel.csv")
    with open(sentinel, "w") as f:
        f.write(f"id,v\n{objects},sentinel\n")
    os.utime(sentinel, (old, old))
    s.start()
    _, rows = s.wait_for("SELECT a.started_at FROM _droplake_attempts a JOIN _droplake_objects o"
                         " ON o.id = a.object_id WHERE o.name = 'idle/sentinel.csv'"
                         " AND a.handler = 'loader'", lambda r: r, 120)
    sentinel_at = ns_of(rows[0][0]) - s.spawned_ns
    time.sleep(2)
    t2, c2 = time.monotonic(), cpu_ticks(s.proc.pid)
    time.sleep(min(10, args.idle_seconds))
    t3, c3 = time.monotonic(), cpu_ticks(s.proc.pid)
    sentinel_polls = any("polling the lake" in line for _, line in s.lines)
    s.stop()
    # Third start: poll mode (a poll every second) over the same lake.
    with open(os.path.join(s.dir, "droplake.toml"), "w") as f:
        f.write('[detect]\nmode = "poll"\n')
    s.start()
    s.scanned()
    time.sleep(2)
    t4, c4 = time.monotonic(), cpu_ticks(s.proc.pid)
    time.sleep(min(20, args.idle_seconds))
    t5, c5 = time.monotonic(), cpu_ticks(s.proc.pid)
    s.stop()
    return {"poll_cpu": (c5 - c4) / hz, "poll_window": t5 - t4,
            "objects": objects, "done": done, "once": once_ns, "find": find_ns,
            "starting": starting, "scanned": scanned, "startup_cpu": startup_cpu,
            "idle_cpu": (c1 - c0) / hz, "window": t1 - t0, "last_scan_at": scans,
            "rss_kib": int(rss), "polls": polls, "sentinel": sentinel_at,
            "sentinel_cpu": (c3 - c2) / hz, "sentinel_window": t3 - t2,
            "sentinel_polls": sentinel_polls}


work = tempfile.mkdtemp(prefix="droplake-daemon-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
try:
    parts = args.only.split(",")
    print(f"droplake {binary}, {os.cpu_count()} cores, work in {work}")
    if "latency" in parts:
        rows = latency()
        print(f"\n1. latency: {args.drops} drops (after {args.warmup} warm-up), "
              f"{args.spacing_ms:g} ms apart; ms")
        print(f"{'':44} {'p50':>7} {'p99':>7} {'max':>7}")
        for label, p50, p99, top in rows:
            print(f"{label:44} {p50:7.2f} {p99:7.2f} {top:7.2f}")
        print("targets: loader started p50 <= 5 ms, p99 <= 25 ms; command running p99 <= 50 ms")
    if "storm" in parts:
        r = storm()
        print(f"\n2. storm: {r['files']:,} files of 10 rows renamed in at once")
        print(f"rename loop                    {r['rename_loop'] / 1e9:7.3f} s")
        print(f"first rename -> all {r['rows']:,} rows {r['all_rows'] / 1e9:7.3f} s"
              f"  ({r['rows'] / (r['all_rows'] / 1e9):,.0f} rows/s, target 10 s)")
        print(f"objects, rows loaded, rejected : {r['objects']}; 'Events were lost' rescans: {r['rescans']}")
        print(f"baseline: droplake load of the same files: {r['load'] / 1e9:7.3f} s ({r['load_rows']:,} rows)")
    if "idle" in parts:
        r = idle()
        print(f"\n3. idle: {r['objects']:,} objects already processed ({r['done']:,} done by "
              f"run --once in {r['once'] / 1e9:.1f} s)")
        print(f"spawn -> 'Starting the daemon.'        {r['starting'] / 1e9:7.3f} s")
        print(f"spawn -> first full scan done          {r['scanned'] / 1e9:7.3f} s  (target 3 s)")
        print(f"CPU used up to then                    {r['startup_cpu']:7.2f} s")
        print(f"baseline: find stating every file      {r['find'] / 1e9:7.3f} s")
        print(f"idle CPU over {r['window']:.1f} s: {r['idle_cpu']:.2f} s = "
              f"{100 * r['idle_cpu'] / r['window']:.2f}% of one core (target < 2%); "
              f"last scan at {r['last_scan_at']}; RSS {r['rss_kib'] / 1024:.1f} MiB; "
              f"fell back to polling: {r['polls']}")
        print(f"restart with one file that arrived while stopped: spawn -> its loader started "
              f"{r['sentinel'] / 1e9:.3f} s; fell back to polling: {r['sentinel_polls']}; "
              f"CPU then {100 * r['sentinel_cpu'] / r['sentinel_window']:.2f}% of one core "
              f"over {r['sentinel_window']:.1f} s")
        print(f"poll mode (poll_interval 1s) over the same lake: "
              f"{100 * r['poll_cpu'] / r['poll_window']:.2f}% of one core over {r['poll_window']:.1f} s")
finally:
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
