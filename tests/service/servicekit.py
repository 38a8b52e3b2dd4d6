"""Helpers for the service tests (a module, imported by name, so it never competes with
another directory's conftest.py): a stand-in for systemd's notify socket and the agent
without systemd's variables; the binary and the agent's start and stop come from
tests/agentkit.py."""
import json
import os
import pathlib
import sys
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import agentkit  # noqa: E402
from agentkit import ROOT, free_port, voltwatch_binary  # noqa: E402,F401


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


class Agent(agentkit.Agent):
    """`voltwatch run --fake normal`, outside any systemd: the notify variables of the caller's
    environment are dropped so only a test's own NOTIFY_SOCKET reaches the agent. The caller
    waits for it (`wait_serving`), since some tests watch the start itself."""

    def __init__(self, binary, *args, env=None, config=None, stdout=subprocess.DEVNULL):
        super().__init__(*args, binary=binary, env=env, config=config, stdout=stdout, wait=False,
                         drop_env=("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"),
                         log_prefix="voltwatch-service-")

    def http(self, path):
        with urllib.request.urlopen(self.url(path), timeout=5) as response:
            return response.read()

    def model(self):
        return json.loads(self.http("/api/model"))


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
