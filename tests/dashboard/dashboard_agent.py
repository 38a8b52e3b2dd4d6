"""The agent the dashboard tests run: `voltwatch run --fake SCENARIO` on a loopback port.

A module of its own (not conftest) so tests can import it by a name no other test directory uses.
The binary is $VOLTWATCH_BIN, else the newest `.build*/{debug,release}/voltwatch` (as tests/server).
"""
import glob
import os
import signal
import socket
import subprocess
import time
import urllib.error
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
    """`voltwatch run --fake SCENARIO` on a loopback port (a given one, to restart in place)."""

    def __init__(self, scenario="spikes", extra_args=(), port=None):
        self.port = port or free_port()
        self.args = [voltwatch_binary(), "run", "--fake", scenario, "--host", "127.0.0.1",
                     "--port", str(self.port), "--config", os.path.join(ROOT, "config", "model_config.json"),
                     *extra_args]
        self.log_path = f"/tmp/voltwatch-dashboard-{self.port}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"voltwatch exited with {self.proc.returncode}: {open(self.log_path).read()}")
            try:
                self.get("/api/health")
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("voltwatch did not start serving within 15 s")

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path, headers=None):
        """(status, headers, body) without raising on 4xx."""
        request = urllib.request.Request(self.url(path), headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
