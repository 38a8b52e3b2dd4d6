#!/usr/bin/env python3
"""Concurrent replay uploads against a live agent: memory and the live stream.

Starts `voltwatch run --fake normal` (10 Hz) on a free loopback port, connects one WebSocket
client that times the gap between consecutive results, and sends N chunked uploads of S MB
each to `POST /api/replay?summary=1` at once. Prints each upload's status, the agent's peak
RSS (VmHWM) and the live stream's longest gap while the uploads ran.

    python3 scripts/upload_bench.py [--uploads 20] [--megabytes 60] [--bin PATH]

The issue's targets: RSS under 100 MB, the longest gap under 150 ms, refused uploads told why.
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time

import websockets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rows(start, count):
    return "".join("%d,%.3f\n" % (1_700_000_000_000 + i * 100, 2.5 + (i % 7) * 0.001)
                   for i in range(start, start + count)).encode()


def upload(port, megabytes, results, index):
    """One chunked upload; records (status line, first 200 bytes of the body)."""
    try:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /api/replay?summary=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        block = rows(0, 20_000)
        header = b"timestamp,voltage\n"
        sent, n = 0, 0
        try:
            s.sendall(b"%x\r\n%s\r\n" % (len(header), header))
            while sent < megabytes * 1024 * 1024:
                s.sendall(b"%x\r\n" % len(block) + block + b"\r\n")
                sent += len(block)
                n += 1
            s.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass      # refused early: the answer is already waiting
        s.settimeout(600)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        results[index] = (head.split(b"\r\n")[0].decode(errors="replace"), body[:200].decode(errors="replace"))
    except Exception as error:  # noqa: BLE001 - a benchmark reports, it does not stop
        results[index] = ("error", repr(error))


def watch(port, marks):
    """Puts the arrival time (epoch seconds) of every device result on `marks`."""
    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
            marks.put("ready")
            while True:
                message = json.loads(await ws.recv())
                if message["event"] == "anomaly_result" and message["data"]["device"] != "app":
                    marks.put(time.time())
    asyncio.run(run())


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--uploads", type=int, default=20)
    ap.add_argument("--megabytes", type=int, default=60)
    ap.add_argument("--bin", default=os.environ.get("VOLTWATCH_BIN", os.path.join(ROOT, ".build", "release", "voltwatch")))
    args = ap.parse_args()

    port = free_port()
    agent = subprocess.Popen([args.bin, "run", "--fake", "normal", "--host", "127.0.0.1", "--port", str(port),
                              "--log-level", "warning"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        # The watcher runs in a process of its own, so the upload threads (and their share of
        # this process's interpreter lock) cannot delay it.
        marks = multiprocessing.Queue()
        watcher = multiprocessing.Process(target=watch, args=(port, marks), daemon=True)
        watcher.start()
        assert marks.get(timeout=30) == "ready"
        time.sleep(2)       # the stream's gaps before any upload, for comparison
        results = [None] * args.uploads
        threads = [threading.Thread(target=upload, args=(port, args.megabytes, results, i)) for i in range(args.uploads)]
        started_at = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ended_at = time.time()
        elapsed = ended_at - started_at
        time.sleep(0.5)
        watcher.terminate()
        arrivals = []
        while not marks.empty():
            arrivals.append(marks.get())
        gaps = [(b - a, b) for a, b in zip(arrivals, arrivals[1:])]
        quiet = [g for g, at in gaps if at < started_at]
        loaded = [g for g, at in gaps if started_at <= at <= ended_at + 0.2]
        statuses = {}
        for status, _ in results:
            statuses[status] = statuses.get(status, 0) + 1
        print(f"{args.uploads} uploads of {args.megabytes} MB in {elapsed:.1f} s: "
              + ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items())))
        refused = [body for status, body in results if not status.startswith("HTTP/1.1 200")]
        if refused:
            print("a refused upload was told:", refused[0][:160])
        print(f"agent peak RSS (VmHWM): {vm_hwm_kb(agent.pid) / 1024:.1f} MB")
        print(f"live stream: longest gap {max(loaded) * 1000:.0f} ms during the uploads "
              f"({len(loaded)} results), {max(quiet) * 1000:.0f} ms before them")
    finally:
        agent.terminate()
        agent.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
