"""Helpers for the service tests (a module of its own, not a conftest.py: tests/serial
imports names from "conftest", which a second conftest module would shadow; test modules
import the fixtures from here): the voltwatch binary, a stand-in for systemd's notify
socket, and a running `voltwatch run --fake normal` on a free port."""
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent


def voltwatch_binary():
    """$VOLTWATCH_BIN, else the newest debug build under the repository."""
    explicit = os.environ.get("VOLTWATCH_BIN")
    if explicit:
        return explicit
    candidates = [p / "debug" / "voltwatch" for p in ROOT.glob(".build*")]
    candidates = [c for c in candidates if c.exists()]
    if not candidates:
        pytest.skip("voltwatch is not built: run `swift build` or set VOLTWATCH_BIN")
    return str(max(candidates, key=lambda c: c.stat().st_mtime))



def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NotifyListener:
    """A datagram socket standing in for systemd's: what the agent sends to $NOTIFY_SOCKET,
    each message with its arrival time (monotonic)."""

    def __init__(self, abstract):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"voltwatch-test-{os.getpid()}-{time.monotonic_ns()}"
            self.sock.bind("\0" + name)
            self.env_value = "@" + name
        else:
            self.dir = tempfile.mkdtemp(prefix="voltwatch-notify-")
            self.env_value = os.path.join(self.dir, "notify")
            self.sock.bind(self.env_value)
        self.messages = []  # (time, {key: value})

    def receive(self, timeout):
        """The next message as a dict, or None after `timeout` seconds."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(4096).decode()
        except socket.timeout:
            return None
        fields = dict(line.split("=", 1) for line in data.split("\n") if line)
        self.messages.append((time.monotonic(), fields))
        return fields

    def wait_for(self, key, timeout=10, value=None):
        """Receives until a message with `key` (and `value`, when given) arrives."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fields = self.receive(deadline - time.monotonic())
            if fields and key in fields and (value is None or fields[key] == value):
                return fields
        raise AssertionError(f"no {key} within {timeout} s; got {[m for _, m in self.messages]}")

    def collect(self, seconds):
        """Everything that arrives in the next `seconds`."""
        got = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            fields = self.receive(deadline - time.monotonic())
            if fields:
                got.append((time.monotonic(), fields))
        return got

    def close(self):
        self.sock.close()
        if hasattr(self, "dir"):
            shutil.rmtree(self.dir, ignore_errors=True)


class Agent:
    """`voltwatch run --fake normal` on a free loopback port, logging to a file."""

    def __init__(self, binary, *args, env=None, config=None, stdout=subprocess.DEVNULL):
        self.port = free_port()
        self.log_path = tempfile.mktemp(prefix="voltwatch-service-", suffix=".log")
        self.log = open(self.log_path, "w")
        config = config or str(ROOT / "config" / "model_config.json")
        self.args = [binary, "run", "--fake", "normal", "--host", "127.0.0.1", "--port", str(self.port),
                     "--config", config, *args]
        full_env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
        full_env.update(env or {})
        self.proc = subprocess.Popen(self.args, stdout=stdout, stderr=self.log, env=full_env)

    def wait_serving(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"voltwatch exited with {self.proc.returncode}: {self.log_text()}")
            try:
                self.http("/api/health")
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("voltwatch did not serve within 15 s")

    def http(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
            return response.read()

    def model(self):
        return json.loads(self.http("/api/model"))

    def log_text(self):
        self.log.flush()
        return pathlib.Path(self.log_path).read_text()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def voltwatch():
    return voltwatch_binary()


@pytest.fixture
def make_agent(voltwatch):
    started = []

    def make(*args, **kwargs):
        agent = Agent(voltwatch, *args, **kwargs)
        started.append(agent)
        return agent

    yield make
    for agent in started:
        agent.stop()
