"""What every end-to-end test directory needs to run the real agent.

- `voltwatch_binary()`: $VOLTWATCH_BIN (scripts/test.sh sets it), else the newest
  `.build*/**/voltwatch` of the checkout. None at all is a failure, never a skip: a test run
  that did not build the agent must not look green.
- `free_port()`: a free loopback port.
- `Agent`: `voltwatch run --fake SCENARIO` on a loopback port, its log in a file, started and
  waited for (`/api/health`), stopped with SIGTERM.
- `raw_handshake()`: a WebSocket handshake over a plain socket, for tests that must control
  every byte (never reading, never answering pings, a refused handshake).
- `wait_until()`: waits for a condition (a status field, a log line, a closed socket) with a
  deadline that only a failing test ever reaches; tests wait for events, never for time.
- `accept_queue_length()`: connections the kernel holds for a listening port that the agent
  has not accepted yet.
- `seccomp_filter()` (from tests/seccomp.py): a seccomp filter for `Agent(preexec_fn=...)`,
  to run the agent where some system calls fail (as under systemd's `SystemCallFilter=`).

Test directories import it after putting this folder on sys.path (their harness modules do).
"""
import base64
import glob
import os
import pathlib
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from seccomp import seccomp_filter  # noqa: E402,F401 (tests/ is on sys.path wherever agentkit is)

ROOT = pathlib.Path(__file__).resolve().parents[1]


def raw_handshake(port, path="/ws", origin=None, receive_buffer=None):
    """Sends a WebSocket handshake on a plain socket; returns (socket, status line and headers as
    text, the bytes after them). A response with a Content-Length is read to its end."""
    s = socket.socket()
    if receive_buffer:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    extra = f"Origin: {origin}\r\n" if origin else ""
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(1 if receive_buffer else 4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
    while length and len(rest) < length[0]:
        chunk = s.recv(4096)
        if not chunk:
            break
        rest += chunk
    return s, head.decode(), rest


# How long a test waits for an event before it fails. Generous: only a failing test waits this
# long, and a loaded CI machine must not turn a slow pass into a failure.
EVENT_TIMEOUT = 30.0


def take_server_frames(buf):
    """Removes every complete server frame from the front of `buf` (a bytearray); returns them
    as (opcode, payload). Server frames are never masked (RFC 6455 §5.1)."""
    frames = []
    while len(buf) >= 2:
        assert buf[1] & 0x80 == 0, "server frames are never masked"
        n, at = buf[1] & 0x7F, 2
        if n == 126:
            n, at = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            n, at = int.from_bytes(buf[2:10], "big"), 10
        if len(buf) < at + n:
            break
        frames.append((buf[0] & 0x0F, bytes(buf[at:at + n])))
        del buf[:at + n]
    return frames


def read_server_frames(s, buf, done=lambda frames: False, timeout=EVENT_TIMEOUT):
    """(opcode, payload) of the server's frames on raw socket `s`, read until `done(frames)`
    holds or the server closes the connection; the timeout only bounds a failure. `buf` holds
    bytes already read past the handshake. Returns (frames, closed)."""
    frames, end = [], time.monotonic() + timeout
    while not done(frames) and time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            return frames, True
        if not chunk:
            return frames, True
        buf += chunk
        frames += take_server_frames(buf)
    return frames, False


def wait_until(condition, timeout=EVENT_TIMEOUT, interval=0.02):
    """Checks `condition` until it holds (returns True) or `timeout` seconds pass (returns
    False, after one last check)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def accept_queue_length(port):
    """Connections waiting in the accept queue of the IPv4 socket listening on `port` (for a
    listening socket, /proc/net/tcp's rx_queue is the accept backlog); None if none listens."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, state, queues = fields[1], fields[3], fields[4]
            if state == "0A" and int(local.split(":")[1], 16) == port:
                return int(queues.split(":")[1], 16)
    return None


def voltwatch_binary():
    explicit = os.environ.get("VOLTWATCH_BIN")
    if explicit:
        if not os.access(explicit, os.X_OK):
            pytest.fail(f"VOLTWATCH_BIN={explicit} is not an executable")
        return explicit
    candidates = glob.glob(str(ROOT / ".build*" / "*" / "voltwatch")) + glob.glob(
        str(ROOT / ".build*" / "*" / "*" / "voltwatch"))
    candidates = [c for c in candidates if os.path.isfile(c) and os.access(c, os.X_OK)]
    if not candidates:
        pytest.fail("no voltwatch binary: run `swift build` (or scripts/test.sh), or set VOLTWATCH_BIN")
    return max(candidates, key=os.path.getmtime)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    """A running `voltwatch run --fake SCENARIO --host 127.0.0.1 --port PORT`.

    `port` reuses a given port (to restart an agent in place); `env` adds to the environment
    and `drop_env` removes variables from it; `wait=False` leaves waiting to the caller;
    `preexec_fn` runs in the child before the agent is executed (a seccomp filter, say).
    Each agent keeps its history in a directory of its own (`data_dir`, else a fresh one), so
    no test sees another's alarms; pass the same `data_dir` to restart an agent on its history.
    """

    def __init__(self, *extra_args, scenario="normal", port=None, env=None, drop_env=(),
                 config=None, binary=None, stdout=subprocess.DEVNULL, wait=True, log_prefix="voltwatch-test-",
                 preexec_fn=None, data_dir=None):
        self.port = port or free_port()
        history = []
        if "--no-history" not in extra_args and "--data-dir" not in extra_args:
            self.data_dir = str(data_dir or tempfile.mkdtemp(prefix="voltwatch-history-"))
            history = ["--data-dir", self.data_dir]
        self.args = [binary or voltwatch_binary(), "run", "--fake", scenario, "--host", "127.0.0.1",
                     "--port", str(self.port), "--config", str(config or ROOT / "config" / "model_config.json"),
                     *history, *extra_args]
        fd, self.log_path = tempfile.mkstemp(prefix=log_prefix, suffix=".log")
        os.close(fd)
        self.log = open(self.log_path, "w")
        full_env = {k: v for k, v in os.environ.items() if k not in drop_env}
        full_env.update(env or {})
        self.proc = subprocess.Popen(self.args, stdout=stdout, stderr=self.log, env=full_env, preexec_fn=preexec_fn)
        if wait:
            self.wait_serving()

    @property
    def base(self):
        return f"127.0.0.1:{self.port}"

    def url(self, path="/"):
        return f"http://{self.base}{path}"

    def log_text(self):
        """Everything the agent logged so far (also after `stop`)."""
        if not self.log.closed:
            self.log.flush()
        return pathlib.Path(self.log_path).read_text()

    def wait_serving(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"voltwatch exited with {self.proc.returncode}: {self.log_text()}")
            try:
                with urllib.request.urlopen(self.url("/api/health"), timeout=5):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"voltwatch did not serve within {timeout} s: {self.log_text()}")

    def get(self, path, headers=None):
        """(status, headers, body), without raising on 4xx/5xx."""
        request = urllib.request.Request(self.url(path), headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, timeout=5):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
