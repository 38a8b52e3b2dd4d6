#!/usr/bin/env python3
"""Load benchmark for the voltwatch server (not a timed test).

Starts `voltwatch run --device <pty>`, writes $VOLT frames into the pty at 10 Hz, and connects
N loopback WebSocket clients spread over several processes (so the clients are not the limit).
Measures, per frame and client, end-to-end latency from the frame being written to the pty to
the client having read its anomaly_result, plus delivery, and the server's CPU and RSS.

    scripts/loadtest.py --clients 1 --seconds 30
    scripts/loadtest.py --clients 1000 --processes 8 --seconds 30
    scripts/loadtest.py --clients 1000 --endpoint socket.io

Loopback only. Uses a release build if there is one (swift build -c release), else $VOLTWATCH_BIN.
"""
import argparse
import asyncio
import glob
import multiprocessing as mp
import os
import re
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SEQ = re.compile(rb'"seq":(\d+)')


def binary():
    if os.environ.get("VOLTWATCH_BIN"):
        return os.environ["VOLTWATCH_BIN"]
    found = [p for p in glob.glob(os.path.join(ROOT, ".build*", "release", "voltwatch"))
             + glob.glob(os.path.join(ROOT, ".build*", "*", "release", "voltwatch")) if os.access(p, os.X_OK)]
    if not found:
        sys.exit("no release build: swift build -c release (or set VOLTWATCH_BIN)")
    return max(found, key=os.path.getmtime)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def frame(seq):
    volts = 2.5 + 0.01 * ((seq * 7919) % 13 - 6) / 6
    body = f"VOLT,{seq},{seq * 100},{int(volts / 5 * 1023)},{volts:.3f}"
    cs = 0
    for b in body.encode():
        cs ^= b
    return f"${body}*{cs:02X}\r\n".encode()


def client_process(port, endpoint, count, ready, start, stop, out):
    """One process holding `count` connections; records (seq, monotonic receive time)."""
    import websockets

    async def one(received):
        if endpoint == "ws":
            url = f"ws://127.0.0.1:{port}/ws"
        else:
            url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
        async with websockets.connect(url, max_queue=None, ping_interval=None, compression=None) as ws:
            if endpoint == "socket.io":
                await ws.recv()                 # 0{...}
                await ws.send("40")
                await ws.recv()                 # 40{"sid"}
            await ws.recv()                     # hello
            ready.put(1)
            while True:
                try:
                    message = await ws.recv()
                except websockets.ConnectionClosed:
                    return
                now = time.monotonic()
                if isinstance(message, str):
                    if message == "2":
                        await ws.send("3")
                        continue
                    message = message.encode()
                if b"anomaly_result" in message:
                    m = SEQ.search(message)
                    if m:
                        received.append((int(m.group(1)), now))

    async def main():
        received = []
        tasks = []
        for i in range(count):
            tasks.append(asyncio.create_task(one(received)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)
        while not stop.is_set():
            await asyncio.sleep(0.1)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        out.put(received)

    asyncio.run(main())


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--processes", type=int, default=0, help="client processes (default: 1 per 125 clients, at most 8)")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--rate", type=float, default=10, help="frames per second")
    ap.add_argument("--endpoint", choices=["ws", "socket.io"], default="ws")
    args = ap.parse_args()
    processes = args.processes or max(1, min(8, (args.clients + 124) // 125))

    master, slave = os.openpty()
    import tty
    tty.setraw(slave)
    pty_path = os.ttyname(slave)
    port = free_port()
    server = subprocess.Popen(
        [binary(), "run", "--device", pty_path, "--reset-delay-ms", "0", "--host", "127.0.0.1", "--port", str(port),
         "--max-clients", str(args.clients + 100), "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=open("/tmp/voltwatch-loadtest.log", "w"))
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("server did not start; see /tmp/voltwatch-loadtest.log")
                time.sleep(0.05)
        # Warm-up frames so the reader has the device open before clients count anything.
        for seq in range(5):
            os.write(master, frame(seq))
            time.sleep(0.1)

        ready, out = mp.Queue(), mp.Queue()
        start, stop = mp.Event(), mp.Event()
        per = [args.clients // processes + (1 if i < args.clients % processes else 0) for i in range(processes)]
        procs = [mp.Process(target=client_process, args=(port, args.endpoint, n, ready, start, stop, out)) for n in per if n]
        for p in procs:
            p.start()
        for _ in range(args.clients):
            ready.get(timeout=60)
        time.sleep(1)

        first_seq = 100
        frames = int(args.seconds * args.rate)
        written = {}
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        client_cpu0 = sum(cpu_seconds(p.pid) for p in procs)
        rss_peak = rss_mb(server.pid)
        period = 1 / args.rate
        next_at = time.monotonic()
        for i in range(frames):
            seq = first_seq + i
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            data = frame(seq)
            written[seq] = time.monotonic()
            os.write(master, data)
            if i % 10 == 0:
                rss_peak = max(rss_peak, rss_mb(server.pid))
        time.sleep(1)
        cpu1, t1 = cpu_seconds(server.pid), time.monotonic()
        client_cpu = (sum(cpu_seconds(p.pid) for p in procs) - client_cpu0) / (t1 - t0) * 100
        rss_peak = max(rss_peak, rss_mb(server.pid))
        stop.set()
        latencies, delivered = [], 0
        for _ in procs:
            for seq, at in out.get(timeout=60):
                if seq in written:
                    delivered += 1
                    latencies.append((at - written[seq]) * 1000)
        for p in procs:
            p.join(timeout=10)
        latencies.sort()
        expected = frames * args.clients
        cpu = (cpu1 - cpu0) / (t1 - t0) * 100
        print(f"endpoint={args.endpoint} clients={args.clients} client_processes={len(procs)} frames={frames} @ {args.rate:g} Hz")
        print(f"delivered {delivered}/{expected} = {100 * delivered / expected:.3f} %")
        print(f"latency ms: p50 {percentile(latencies, 50):.3f}  p90 {percentile(latencies, 90):.3f}  "
              f"p99 {percentile(latencies, 99):.3f}  max {latencies[-1] if latencies else float('nan'):.3f}")
        print(f"server CPU {cpu:.1f} % of one core, RSS peak {rss_peak:.1f} MB; clients used {client_cpu:.0f} % of one core")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
