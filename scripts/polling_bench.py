#!/usr/bin/env python3
"""Engine.IO long-polling under load: N polling clients (default 200) against
`voltwatch run --fake normal` (10 results a second) for D seconds; each client polls
continuously over a keep-alive connection, as socket.io-client does, and checks that it gets
every result of the fake device in order, none missed (no gap in `seq`, no `missed` event).

Usage: scripts/polling_bench.py [--clients 200] [--seconds 20] [--binary PATH]
Prints one line of figures: results expected and delivered, gaps, missed events, poll
latency (time a poll waited) and the agent's CPU and memory.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(port, seconds, out):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(method, query, body=None):
        conn.request(method, f"/socket.io/?EIO=4&transport=polling{query}", body=body)
        response = conn.getresponse()
        return response.status, response.read().decode()

    _, opened = request("GET", "")
    sid = json.loads(opened[1:])["sid"]
    request("POST", f"&sid={sid}", "40")
    seqs, missed, polls = [], 0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status, text = request("GET", f"&sid={sid}")
        polls += 1
        if status != 200:
            break
        for packet in text.split("\x1e"):
            if packet == "2":
                request("POST", f"&sid={sid}", "3")
            elif packet.startswith('42["anomaly_result"'):
                data = json.loads(packet[2:])[1]
                if data["device"] == "fake":
                    seqs.append(data["seq"])
            elif packet.startswith('42["missed"'):
                missed += 1
    request("POST", f"&sid={sid}", "1")
    gaps = sum(1 for a, b in zip(seqs, seqs[1:]) if b != a + 1)
    out.put((len(seqs), gaps, missed, polls))


def worker(port, seconds, count, out):
    threads = [threading.Thread(target=client, args=(port, seconds, out)) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--binary", default=os.environ.get("VOLTWATCH_BIN", ".build/release/voltwatch"))
    args = parser.parse_args()
    port = free_port()
    agent = subprocess.Popen([args.binary, "run", "--fake", "normal", "--host", "127.0.0.1", "--port", str(port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        out = multiprocessing.Queue()
        per = [args.clients // args.processes + (1 if i < args.clients % args.processes else 0) for i in range(args.processes)]
        cpu0, t0 = cpu_seconds(agent.pid), time.monotonic()
        procs = [multiprocessing.Process(target=worker, args=(port, args.seconds, n, out)) for n in per if n]
        for p in procs:
            p.start()
        results = [out.get(timeout=args.seconds + 120) for _ in range(args.clients)]
        cpu = (cpu_seconds(agent.pid) - cpu0) / (time.monotonic() - t0)
        rss = rss_kb(agent.pid)
        for p in procs:
            p.join()
        delivered = sum(r[0] for r in results)
        gaps = sum(r[1] for r in results)
        missed = sum(r[2] for r in results)
        polls = sum(r[3] for r in results)
        print(f"clients={args.clients} seconds={args.seconds} results_delivered={delivered} "
              f"per_client_min={min(r[0] for r in results)} per_client_max={max(r[0] for r in results)} "
              f"gaps={gaps} missed_events={missed} polls={polls} agent_cpu={cpu * 100:.1f}% agent_rss={rss // 1024}MB")
        return 0 if gaps == 0 and missed == 0 else 1
    finally:
        agent.terminate()
        agent.wait(10)


if __name__ == "__main__":
    sys.exit(main())
