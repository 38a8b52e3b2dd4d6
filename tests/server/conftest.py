"""Fixtures that run the real agent (`voltwatch run --fake normal`) on a free loopback port.

The binary and the agent's start and stop come from tests/agentkit.py.
"""
import json
import os
import sys
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import agentkit  # noqa: E402
from agentkit import ROOT, free_port, voltwatch_binary  # noqa: E402,F401


class Agent(agentkit.Agent):
    """The agent with the HTTP helpers the server tests use."""

    def __init__(self, extra_args=(), scenario="normal", env=None, preexec_fn=None):
        super().__init__(*extra_args, scenario=scenario, env=env, preexec_fn=preexec_fn)

    def http(self, path, token=None, method="GET", body=None):
        request = urllib.request.Request(f"http://{self.base}{path}", method=method, data=body)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()

    def status(self, token=None):
        return json.loads(self.http("/api/status", token=token)[1])



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
