#!/usr/bin/env python3
"""Load benchmark for the voltwatch server (not a timed test).

Starts `voltwatch run --device <pty>`, writes $VOLT frames into the pty at 10 Hz, and connects
N loopback WebSocket clients spread over several processes (so the clients are not the limit).
Measures, per frame and client, end-to-end latency from the frame being written to the pty to
the client receiving its anomaly_result, plus delivery, and the server's CPU, RSS and threads,
and the client processes' CPU (if it nears their share of the cores, the clients are the limit).

Each client process holds its connections as raw sockets (handshake and frame parsing by hand,
pings answered), a tenth of the CPU of a `websockets` client per message. By default
(--client-reads wake) an asyncio loop reads each socket as data arrives, so the server's sends
wake the clients on the server's own cores. With --client-reads batch the clients watch no
socket: they read every socket once per frame period, half a period after each frame, so the
server's sends wake nobody and no client runs during a fan-out, which is as close as loopback
gets to phones on other machines.
Latency is reported twice: to the kernel's receive timestamp of the client socket
(SO_TIMESTAMPNS: the server's latency, whatever the client process is doing) and to the moment
the client process read it (adds the client's own scheduling on a shared machine).

    scripts/loadtest.py --clients 1 --seconds 30
    scripts/loadtest.py --clients 1000 --processes 8 --seconds 30
    scripts/loadtest.py --clients 1000 --endpoint socket.io
    scripts/loadtest.py --clients 1000 --floor c   # the machine's floor, without voltwatch
    scripts/loadtest.py --clients 1000 --client-reads batch

--floor swaps voltwatch for a minimal fan-out server: `c` (scripts/floor/floor_server.c, built
with cc) or `python` (`floor_server` below). It reads the same pty and sends one pre-framed
message per frame to every socket with plain send(2) calls from two threads, one per core, and
does nothing else. Its figures are what this machine's kernel and these clients allow any
server; compare voltwatch's against them, measured the same way.

Loopback only. Uses a release build if there is one (swift build -c release), else $VOLTWATCH_BIN.
"""
import argparse
import asyncio
import base64
import glob
import math
import multiprocessing as mp
import os
import re
import shutil
import signal
import socket
import struct
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


SO_TIMESTAMPNS = 35          # Linux: kernel receive timestamps (CLOCK_REALTIME) on recvmsg
TIMESPEC = struct.Struct("@qq")


class Conn:
    """One raw WebSocket client connection: handshake done, frames parsed by hand (server frames
    are unmasked), pings answered. Lighter than a websockets client by an order of magnitude, so
    a few processes can hold 1,000 connections without the clients becoming the limit."""
    __slots__ = ("sock", "buf", "endpoint", "ready")

    def __init__(self, sock, endpoint):
        self.sock, self.buf, self.endpoint, self.ready = sock, bytearray(), endpoint, False

    def send_text(self, text):
        payload = text.encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def send_pong(self, payload):
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)

    def frames(self):
        """Complete frames in the buffer: (opcode, payload)."""
        buf = self.buf
        while len(buf) >= 2:
            opcode, n, at = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, at = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, at = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < at + n:
                return
            payload = bytes(buf[at:at + n])
            del buf[:at + n]
            yield opcode, payload


def handshake(port, endpoint):
    path = "/ws" if endpoint == "ws" else "/socket.io/?EIO=4&transport=websocket"
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed during handshake")
        head += chunk
    head, rest = head.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(head[:80])
    sock.setblocking(False)
    conn = Conn(sock, endpoint)
    conn.buf += rest
    return conn


def floor_server(pty_path, port, threads=2):
    """The least a WebSocket fan-out server can do: handshake, `hello`, then for each $VOLT line
    on the pty one `anomaly_result` text frame (with the seq) sent to every client, the clients
    split over `threads` sender threads as an event-loop server splits them over its loops."""
    import hashlib
    import queue
    import threading
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(4096)
    groups = [[] for _ in range(threads)]
    lock = threading.Lock()

    def text_frame(text):
        payload = text.encode()
        n = len(payload)
        head = bytes([0x81, n]) if n < 126 else bytes([0x81, 126]) + n.to_bytes(2, "big")
        return head + payload

    def accept():
        count = 0
        while True:
            conn, _ = listener.accept()
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            key = re.search(rb"Sec-WebSocket-Key: *(\S+)", data, re.I)
            if not key:  # the readiness probe
                conn.close()
                continue
            key = key.group(1)
            accept_key = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept_key + b"\r\n\r\n")
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.sendall(text_frame('{"event":"hello","data":{}}'))
            with lock:
                groups[count % threads].append(conn)
            count += 1

    def sender(group, inbox):
        while True:
            frame = inbox.get()
            for conn in group:
                conn.send(frame)

    threading.Thread(target=accept, daemon=True).start()
    inboxes = [queue.SimpleQueue() for _ in range(threads)]
    for group, inbox in zip(groups, inboxes):
        threading.Thread(target=sender, args=(group, inbox), daemon=True).start()
    fd = os.open(pty_path, os.O_RDONLY | os.O_NOCTTY)
    pending = b""
    while True:
        pending += os.read(fd, 4096)
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.startswith(b"$VOLT,"):
                seq = int(line.split(b",")[1])
                frame = text_frame('{"event":"anomaly_result","data":{"seq":%d,"device":"floor"}}' % seq)
                for inbox in inboxes:
                    inbox.put(frame)


def read_socket(conn):
    """One recvmsg: (data, kernel receive time, read time), both CLOCK_REALTIME. b"" when the
    server closed the connection, None when nothing waits."""
    try:
        data, ancdata, _, _ = conn.sock.recvmsg(65536, 64)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        data, ancdata = b"", []
    now = time.time()
    kernel = now
    for level, kind, cdata in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = TIMESPEC.unpack(cdata[:TIMESPEC.size])
            kernel = sec + nsec / 1e9
    return data, kernel, now


def handle_frames(conn, kernel, now, received, ready):
    """Answers pings and Socket.IO's handshake, notes `hello`, and records each anomaly_result
    as (seq, kernel time, read time). Returns how many anomaly_results the data held and whether
    it held any other frame from the server."""
    results, other = 0, False
    for opcode, payload in conn.frames():
        if opcode == 0x9:
            conn.send_pong(payload)
            other = True
        elif opcode == 0x8:
            return results, True
        elif opcode == 0x1:
            if b"anomaly_result" in payload:
                m = SEQ.search(payload)
                if m:
                    received.append((int(m.group(1)), kernel, now))
                    results += 1
                continue
            other = True
            if payload == b"2":
                conn.send_text("3")
            elif payload.startswith(b"0{"):
                conn.send_text("40")
            elif b"hello" in payload[:20] and not conn.ready:
                conn.ready = True
                ready.put(1)
    return results, other


def client_process(port, endpoint, count, ready, stop, out, low_priority, reads, schedule, period):
    """One process holding `count` raw connections. Records, per anomaly_result, (seq, kernel
    receive time, application read time), both CLOCK_REALTIME: the kernel stamp is when the
    bytes reached this client's socket (the server's latency); the read time adds this
    process's own scheduling (the client's).

    reads="wake": an asyncio loop with a reader callback per socket, so every arrival may wake
    this process on the server's cores, as an app on the same machine would.
    reads="batch": no socket is watched; the process sleeps and reads every socket once per
    frame period, half a period after each frame is written (`schedule` holds when the first
    frame is written, CLOCK_MONOTONIC). Phones on other machines cost the server's cores
    nothing; this is the closest loopback gets: the server's sends wake no client and the
    clients never run during a fan-out. The kernel stamp still says when the bytes arrived."""

    if low_priority:
        # The clients stand in for phones on other machines: let them yield the CPU to the server
        # instead of preempting it on every wake-up (SCHED_BATCH, nice 19). The kernel receive
        # timestamp still says when the server's bytes reached each socket.
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        os.nice(19)

    received = []
    if reads == "batch":
        conns = [handshake(port, endpoint) for _ in range(count)]
        for conn in conns:
            handle_frames(conn, time.time(), time.time(), received, ready)
        open_conns, closed = list(conns), 0
        while not stop.is_set():
            first, now = schedule.value, time.monotonic()
            if first:
                # The next mid-point between two frames.
                k = math.floor((now - first) / period - 0.5) + 1
                time.sleep(max(0.0, first + (k + 0.5) * period - now))
            else:
                time.sleep(period / 2)
            for conn in list(open_conns):
                while True:
                    got = read_socket(conn)
                    if got is None:
                        break
                    data, kernel, now = got
                    if not data:
                        open_conns.remove(conn)
                        closed += 1
                        break
                    conn.buf += data
                    mark = len(received)
                    results, other = handle_frames(conn, kernel, now, received, ready)
                    if other and results:
                        # The kernel stamps a read with its last packet's time and merges
                        # packets queued together: a ping read with a result may carry the
                        # ping's time. Leave such results out (they are as likely to be fast as
                        # slow): they count as delivered, not in the latencies.
                        received[mark:] = [(seq, None, None) for seq, _, _ in received[mark:]]
        for conn in conns:
            conn.sock.close()
        out.put((received, closed))
        return

    async def main():
        loop = asyncio.get_running_loop()
        conns = []
        closed = [0]

        def on_readable(conn):
            got = read_socket(conn)
            if got is None:
                return
            data, kernel, now = got
            if not data:
                loop.remove_reader(conn.sock.fileno())
                closed[0] += 1
                return
            conn.buf += data
            handle_frames(conn, kernel, now, received, ready)

        for i in range(count):
            conn = await loop.run_in_executor(None, handshake, port, endpoint)
            conns.append(conn)
            loop.add_reader(conn.sock.fileno(), on_readable, conn)
            handle_frames(conn, time.time(), time.time(), received, ready)
        while not stop.is_set():
            await asyncio.sleep(0.1)
        for conn in conns:
            try:
                loop.remove_reader(conn.sock.fileno())
            except Exception:
                pass
            conn.sock.close()
        out.put((received, closed[0]))

    asyncio.run(main())


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid, field="VmRSS"):
    """Resident memory in MB: VmRSS (all), RssAnon (heap, stacks) or RssFile (mapped code)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def threads(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


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
    ap.add_argument("--client-priority", choices=["low", "normal"], default="low",
                    help="low (default): client processes run SCHED_BATCH at nice 19, so they do not preempt "
                         "the server on the shared cores; normal: same priority as the server")
    ap.add_argument("--client-reads", choices=["wake", "batch"], default="wake",
                    help="wake (default): each client reads as its data arrives, waking on the server's cores; "
                         "batch: clients read once per period, between frames, so the server's sends wake "
                         "nobody, as with phones on other machines (see client_process)")
    ap.add_argument("--floor", choices=["c", "python"],
                    help="measure a minimal fan-out server instead of voltwatch (see above)")
    ap.add_argument("--floor-threads", type=int, default=2,
                    help="sender threads of the floor server (default 2, one per core)")
    ap.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                    help="environment for the server (e.g. MALLOC_ARENA_MAX=2); repeatable")
    args = ap.parse_args()
    processes = args.processes or max(1, min(8, (args.clients + 124) // 125))

    master, slave = os.openpty()
    import tty
    tty.setraw(slave)
    pty_path = os.ttyname(slave)
    port = free_port()
    if args.floor == "c":
        built = os.path.join(os.environ.get("TMPDIR", "/tmp"), "voltwatch-floor-server")
        compiler = shutil.which("cc") or shutil.which("clang")  # clang ships with the Swift toolchain
        if not compiler:
            sys.exit("--floor c needs a C compiler (cc or clang) on PATH")
        subprocess.run([compiler, "-O2", "-pthread", "-o", built, os.path.join(ROOT, "scripts", "floor", "floor_server.c")],
                       check=True)
        command = [built, pty_path, str(port), str(args.floor_threads)]
    elif args.floor == "python":
        command = [sys.executable, os.path.abspath(__file__), "--serve-floor", pty_path, str(port), str(args.floor_threads)]
    else:
        command = [binary(), "run", "--device", pty_path, "--reset-delay-ms", "0", "--host", "127.0.0.1", "--port", str(port),
         "--max-clients", str(args.clients + 100), "--log-level", "warning"]
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=open("/tmp/voltwatch-loadtest.log", "w"),
        env={**os.environ, **dict(kv.split("=", 1) for kv in args.server_env)})
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
        stop = mp.Event()
        schedule = mp.Value("d", 0.0, lock=False)  # CLOCK_MONOTONIC of the first counted frame
        per = [args.clients // processes + (1 if i < args.clients % processes else 0) for i in range(processes)]
        procs = [mp.Process(target=client_process, args=(port, args.endpoint, n, ready, stop, out, args.client_priority == "low",
                                                           args.client_reads, schedule, 1 / args.rate)) for n in per if n]
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
        schedule.value = next_at + period
        for i in range(frames):
            seq = first_seq + i
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            data = frame(seq)
            written[seq] = time.time()
            os.write(master, data)
            if i % 10 == 0:
                rss_peak = max(rss_peak, rss_mb(server.pid))
        time.sleep(1)
        cpu1, t1 = cpu_seconds(server.pid), time.monotonic()
        client_cpu = (sum(cpu_seconds(p.pid) for p in procs) - client_cpu0) / (t1 - t0) * 100
        rss_peak = max(rss_peak, rss_mb(server.pid))
        stop.set()
        latencies, app_latencies, delivered, closed, ambiguous = [], [], 0, 0, 0
        by_frame = {}
        for _ in procs:
            received, closed_here = out.get(timeout=60)
            closed += closed_here
            for seq, kernel_at, read_at in received:
                if seq in written:
                    delivered += 1
                    if kernel_at is None:
                        ambiguous += 1
                        continue
                    latencies.append((kernel_at - written[seq]) * 1000)
                    by_frame.setdefault(seq, []).append(latencies[-1])
                    app_latencies.append((read_at - written[seq]) * 1000)
        for p in procs:
            p.join(timeout=10)
        latencies.sort()
        app_latencies.sort()
        expected = frames * args.clients
        cpu = (cpu1 - cpu0) / (t1 - t0) * 100
        print(f"server={'floor (minimal ' + args.floor + ' fan-out)' if args.floor else 'voltwatch'} endpoint={args.endpoint} clients={args.clients} client_processes={len(procs)} client_reads={args.client_reads} frames={frames} @ {args.rate:g} Hz")
        print(f"delivered {delivered}/{expected} = {100 * delivered / expected:.3f} %; connections closed by the server: {closed}"
              + (f"; {ambiguous} read with a ping, left out of the latencies" if ambiguous else ""))
        for name, values in (("latency ms (frame written -> bytes at client socket, kernel timestamp)", latencies),
                             ("latency ms (frame written -> read by the client process)", app_latencies)):
            print(f"{name}: p50 {percentile(values, 50):.3f}  p90 {percentile(values, 90):.3f}  "
                  f"p99 {percentile(values, 99):.3f}  max {values[-1] if values else float('nan'):.3f}")
        # Per broadcast: when its last client got it. The median broadcast's figure barely moves
        # when the machine disturbs a few broadcasts, which is what decides p99 on a noisy VM.
        last = sorted(max(v) for v in by_frame.values())
        print(f"last client of each broadcast ms: median {percentile(last, 50):.3f}  p90 {percentile(last, 90):.3f}")
        print(f"server CPU {cpu:.1f} % of one core, RSS peak {rss_peak:.1f} MB (now: {rss_mb(server.pid, 'RssAnon'):.1f} MB anonymous, "
              f"{rss_mb(server.pid, 'RssFile'):.1f} MB mapped files), threads {threads(server.pid)}; "
              f"clients used {client_cpu:.0f} % of one core")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve-floor":
        floor_server(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
