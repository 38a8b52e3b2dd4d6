#!/usr/bin/env python3
"""Benchmarks of the history store (issue 19), release mode. Reports figures, asserts nothing
(the targets are the issue's; machines here are noisy: compare figures measured in one run).

  scripts/history_bench.py [--only query,store,agent] [--agent-seconds 120] [--skip-build]

(a) query: a store holding 7 days of one device at 10 Hz (604,800 per-second rows and 10,080
    per-minute rows, written with Python's sqlite3 into a store made by `voltwatch replay --db`,
    so the schema is the agent's own), served by `voltwatch serve --db`; times
    `GET /api/history?device=bench&from=<now-7d>&to=<now>&step=60` (10,080 points) over one
    keep-alive connection, and a few other ranges; the first query with the file's pages
    dropped from the page cache too. Target: <= 50 ms.
(b) store: `voltwatch-history-bench` (Benchmarks/voltwatch-history-bench): 8 streams x 10 Hz
    published into a real HistoryRecorder and flushed once per simulated second for a
    simulated hour: CPU per second of the agent, % of one core. Target: <= 1 %.
    The same for 1 stream: bytes per hour per device.
(c) agent: the real agent measured from outside: `voltwatch run --fake normal --no-serve`
    with 1 and with 6 channels (streams), each beside the same agent with `--no-history`, all
    four at once for --agent-seconds; CPU from /proc/<pid>/stat and bytes from /proc/<pid>/io
    (wchar: what it handed the kernel; write_bytes: what reached the block layer), history's
    share being the difference, scaled to an hour.

Binaries: `swift build -c release --scratch-path /tmp/vw-release` (a scratch path of its own, so
the benchmark does not block other builds); --bin-dir uses binaries already built.
"""
import argparse
import http.client
import json
import os
import pathlib
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRATCH = "/tmp/vw-release"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def build(products):
    for product in products:
        print(f"building {product} (release, {SCRATCH}) ...", flush=True)
        subprocess.run(["swift", "build", "-c", "release", "--product", product, "--scratch-path", SCRATCH],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return pathlib.Path(SCRATCH) / "release"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, path="/api/health", timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing serves on {port}")


# (a) ------------------------------------------------------------------------------------------

def make_week_store(voltwatch, path, now_s):
    """7 days of one device ('bench') at 10 Hz as the recorder would have stored them."""
    csv = path.with_suffix(".csv")
    csv.write_text("timestamp_ms,voltage\n" + "".join(f"{(now_s - 10) * 1000 + i * 100},2.5\n" for i in range(3)))
    subprocess.run([voltwatch, "replay", "--db", str(path), "--device", "bench", "--quiet", str(csv)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start_ms = (now_s - 7 * 86_400) // 60 * 60 * 1000
    end_ms = now_s * 1000 // 1000 * 1000
    db = sqlite3.connect(path)
    for table in ("seconds", "minutes", "episodes", "episode_samples", "streams"):
        db.execute(f"DELETE FROM {table}")

    def second_rows():
        for t in range(start_ms, end_ms, 1000):
            phase = (t // 1000) % 86_400
            base = 12.6 + 0.4 * ((phase - 43_200) / 43_200) ** 2  # a day's slow swing
            yield ("bench", t, base - 0.01, base + 0.01, 10 * base, 10, 0)

    db.executemany("INSERT INTO seconds VALUES (?, ?, ?, ?, ?, ?, ?)", second_rows())
    db.execute("""INSERT INTO minutes SELECT stream, t / 60000 * 60000, min(min), max(max), sum(sum), sum(count),
                  sum(anomalies) FROM seconds GROUP BY stream, t / 60000""")
    db.execute("INSERT INTO streams VALUES ('bench', 'House battery', 'V', ?, ?)", (start_ms, end_ms))
    db.commit()
    counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("seconds", "minutes")]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return counts


def drop_file_cache(path):
    for p in (path, str(path) + "-wal"):
        if os.path.exists(p):
            fd = os.open(p, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)


def timed_get(conn, path):
    t = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - t
    assert response.status == 200, (response.status, body[:300])
    return elapsed, body


def bench_query(bins, runs):
    print("\n(a) query: 7 days of one device at 10 Hz, served by `voltwatch serve --db`")
    work = pathlib.Path(tempfile.mkdtemp(prefix="voltwatch-history-query-"))
    db_path = work / "week.sqlite"
    now_s = int(time.time())
    t = time.perf_counter()
    seconds, minutes = make_week_store(str(bins / "voltwatch"), db_path, now_s)
    print(f"  store: {seconds:,} per-second rows, {minutes:,} per-minute rows, "
          f"{db_path.stat().st_size / 1e6:.1f} MB, built in {time.perf_counter() - t:.1f} s ({db_path})")
    port = free_port()
    server = subprocess.Popen([str(bins / "voltwatch"), "serve", "--db", str(db_path), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(port)
        week = f"from={now_s - 7 * 86_400}&to={now_s}"
        queries = [
            ("7 d, step 60 s (the target)", f"/api/history?device=bench&{week}&step=60"),
            ("7 d, automatic step", f"/api/history?device=bench&{week}"),
            ("24 h, automatic step", f"/api/history?device=bench&from={now_s - 86_400}&to={now_s}"),
            ("1 h, step 1 s", f"/api/history?device=bench&from={now_s - 3_600}&to={now_s}&step=1"),
        ]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        drop_file_cache(db_path)
        cold, _ = timed_get(conn, queries[0][1])
        print(f"  first query, file pages dropped from the page cache: {cold * 1e3:.1f} ms")
        for name, path in queries:
            timed_get(conn, path)  # warm
            times = []
            for _ in range(runs):
                elapsed, body = timed_get(conn, path)
                times.append(elapsed)
            points = len(json.loads(body)["points"])
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"  {name:<28} {points:>6} points, {len(body) / 1e3:>6.0f} kB: median {statistics.median(times) * 1e3:6.1f} ms, "
                  f"p95 {p95 * 1e3:6.1f} ms, min {times[0] * 1e3:6.1f} ms  ({runs} runs)")
        conn.close()
        # The SQL alone (what HistoryStore.history runs for the target), for scale.
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        from_ms, to_ms = (now_s - 7 * 86_400) * 1000, now_s * 1000
        sql = ("SELECT (t / 60000) * 60000 AS bucket, min(min), max(max), sum(sum), sum(count), sum(anomalies) "
               "FROM minutes WHERE stream = ? AND t >= ? AND t < ? GROUP BY bucket ORDER BY bucket")
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            db.execute(sql, ("bench", from_ms - from_ms % 60000, to_ms)).fetchall()
            times.append(time.perf_counter() - t)
        db.close()
        print(f"  the SQL alone (Python sqlite3): median {statistics.median(times) * 1e3:.1f} ms")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


# (b) ------------------------------------------------------------------------------------------

def bench_store(bins, seconds):
    print("\n(b) store in process: voltwatch-history-bench")
    for streams in (8, 1):
        work = tempfile.mkdtemp(prefix="voltwatch-history-bench-", dir="/var/tmp")
        command = [str(bins / "voltwatch-history-bench"), "--streams", str(streams), "--hz", "10", "--seconds", str(seconds),
                   "--dir", work]
        print("  $ " + " ".join(["voltwatch-history-bench"] + command[1:-2]) + " --dir DIR")
        try:
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print("".join("    " + line + "\n" for line in out.splitlines()), end="")


# (c) ------------------------------------------------------------------------------------------

def proc_cpu_seconds(pid):
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def proc_io(pid):
    values = {}
    for line in pathlib.Path(f"/proc/{pid}/io").read_text().splitlines():
        key, value = line.split(":")
        values[key] = int(value)
    return values


def bench_agent(bins, seconds):
    print(f"\n(c) the real agent, four at once for {seconds} s: --fake normal --no-serve at 10 Hz, "
          "1 and 6 channels, with and without history")
    work = pathlib.Path(tempfile.mkdtemp(prefix="voltwatch-history-agent-", dir="/var/tmp"))
    agents = {}
    try:
        for channels in (1, 6):
            for history in (True, False):
                name = f"{channels}ch-{'history' if history else 'none'}"
                data = work / name
                data.mkdir()
                args = [str(bins / "voltwatch"), "run", "--fake", "normal", "--channels", str(channels), "--no-serve",
                        "--config", str(ROOT / "config" / "model_config.json")]
                args += ["--data-dir", str(data)] if history else ["--no-history"]
                env = dict(os.environ, VOLTWATCH_DATA_DIR=str(data))  # whatever else it keeps, kept apart
                agents[name] = (subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env), data)
        print("  $ voltwatch run --fake normal --channels N --no-serve --data-dir DIR   (N = 1, 6; and with --no-history)")
        time.sleep(5)  # past start-up: files made, first flushes done
        start = {n: (proc_cpu_seconds(p.pid), proc_io(p.pid), time.monotonic()) for n, (p, _) in agents.items()}
        time.sleep(seconds)
        end = {n: (proc_cpu_seconds(p.pid), proc_io(p.pid), time.monotonic()) for n, (p, _) in agents.items()}
        rate = {}
        for name in agents:
            (c0, io0, t0), (c1, io1, t1) = start[name], end[name]
            span = t1 - t0
            rate[name] = ((c1 - c0) / span, (io1["wchar"] - io0["wchar"]) / span, (io1["write_bytes"] - io0["write_bytes"]) / span)
            print(f"  {name:<13} CPU {rate[name][0] * 100:6.3f} % of a core, wchar {rate[name][1] * 3600 / 1e6:8.2f} MB/h, "
                  f"write_bytes {rate[name][2] * 3600 / 1e6:8.2f} MB/h")
        for channels in (1, 6):
            with_history, without = rate[f"{channels}ch-history"], rate[f"{channels}ch-none"]
            cpu, wchar, written = (with_history[i] - without[i] for i in range(3))
            data = agents[f"{channels}ch-history"][1]
            size = sum(f.stat().st_size for f in data.glob("history.sqlite*"))
            # Per-flush costs are shared by the streams: only the 6-stream pair says much about 8.
            scaled = f" ({cpu * 100 * 8 / channels:+.3f} % scaled to 8 streams)" if channels > 1 else ""
            print(f"  history's share, {channels} stream(s): CPU {cpu * 100:+.3f} % of a core{scaled}; "
                  f"wchar {wchar * 3600 / 1e6:.2f} MB/h ({wchar * 3600 / 1e6 / channels:.2f} MB/h per stream), "
                  f"write_bytes {written * 3600 / 1e6:.2f} MB/h ({written * 3600 / 1e6 / channels:.2f} MB/h per stream); "
                  f"history.sqlite + WAL now {size / 1e6:.2f} MB")
    finally:
        for process, _ in agents.values():
            process.send_signal(signal.SIGTERM)
        for process, _ in agents.values():
            process.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="query,store,agent", help="comma-separated: query, store, agent")
    parser.add_argument("--agent-seconds", type=int, default=120, help="measured interval of (c)")
    parser.add_argument("--store-seconds", type=int, default=3600, help="simulated seconds of (b)")
    parser.add_argument("--runs", type=int, default=30, help="timed queries per range in (a)")
    parser.add_argument("--bin-dir", help="release binaries already built (voltwatch, voltwatch-history-bench)")
    parser.add_argument("--skip-build", action="store_true", help=f"use {SCRATCH}/release as it is")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if args.bin_dir:
        bins = pathlib.Path(args.bin_dir)
    elif args.skip_build:
        bins = pathlib.Path(SCRATCH) / "release"
    else:
        bins = build(["voltwatch", "voltwatch-history-bench"])
    print(f"binaries: {bins}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    if "query" in only:
        bench_query(bins, args.runs)
    if "store" in only:
        bench_store(bins, args.store_seconds)
    if "agent" in only:
        bench_agent(bins, args.agent_seconds)


if __name__ == "__main__":
    sys.exit(main())
