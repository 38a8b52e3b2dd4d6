"""The agent the dashboard tests run: `voltwatch run --fake SCENARIO` on a loopback port.

A module of its own (not conftest) so tests can import it by a name no other test directory uses.
The binary and the agent's start and stop come from tests/agentkit.py.
"""
import os
import sys


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import agentkit  # noqa: E402
from agentkit import ROOT, free_port, voltwatch_binary  # noqa: E402,F401


class Agent(agentkit.Agent):
    """`voltwatch run --fake SCENARIO` on a loopback port (a given one, to restart in place)."""

    def __init__(self, scenario="spikes", extra_args=(), port=None):
        super().__init__(*extra_args, scenario=scenario, port=port, log_prefix="voltwatch-dashboard-")

