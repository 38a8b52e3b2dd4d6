"""Fixtures that run the real agent (`voltwatch run --fake normal`) on a free loopback port.

The binary is $VOLTWATCH_BIN, else the newest `.build*/{debug,release}/voltwatch` of the checkout.
"""
import glob
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def voltwatch_binary():
    env = os.environ.get("VOLTWATCH_BIN")
    if env:
        return env
    candidates = glob.glob(os.path.join(ROOT, ".build*", "*", "voltwatch")) + glob.glob(
        os.path.join(ROOT, ".build*", "*", "*", "voltwatch"))
    candidates = [c for c in candidates if os.access(c, os.X_OK) and os.path.isfile(c)]
    if not candidates:
        pytest.skip("no voltwatch binary: run 'swift build' or set VOLTWATCH_BIN")
    return max(candidates, key=os.path.getmtime)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    """A running `voltwatch run --fake SCENARIO` with its port and helpers."""

    def __init__(self, extra_args=(), scenario="normal", env=None):
        self.port = free_port()
        self.args = [voltwatch_binary(), "run", "--fake", scenario, "--host", "127.0.0.1",
                     "--port", str(self.port), "--config", os.path.join(ROOT, "config", "model_config.json"),
                     *extra_args]
        self.stderr_path = f"/tmp/voltwatch-test-{self.port}.log"
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     env={**os.environ, **(env or {})})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"voltwatch exited with {self.proc.returncode}: {open(self.stderr_path).read()}")
            try:
                self.http("/api/health")
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("voltwatch did not start serving within 15 s")

    @property
    def base(self):
        return f"127.0.0.1:{self.port}"

    def http(self, path, token=None, method="GET", body=None):
        request = urllib.request.Request(f"http://{self.base}{path}", method=method, data=body)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()

    def status(self, token=None):
        return json.loads(self.http("/api/status", token=token)[1])

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


@pytest.fixture
def agent():
    a = Agent()
    yield a
    a.stop()


@pytest.fixture
def make_agent():
    started = []

    def make(*extra_args, **kwargs):
        a = Agent(extra_args, **kwargs)
        started.append(a)
        return a

    yield make
    for a in started:
        a.stop()
