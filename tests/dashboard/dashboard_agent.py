"""The agents the dashboard tests run: `voltwatch run --fake SCENARIO` on a loopback port, and
`voltwatch serve --db FILE` (a stored history browsed with no device).

A module of its own (not conftest) so tests can import it by a name no other test directory uses.
The binary and the agent's start and stop come from tests/agentkit.py.
"""
import os
import subprocess
import sys
import tempfile


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import agentkit  # noqa: E402
from agentkit import ROOT, free_port, voltwatch_binary  # noqa: E402,F401


class Agent(agentkit.Agent):
    """`voltwatch run --fake SCENARIO` on a loopback port (a given one, to restart in place; a
    given `data_dir`, to restart on the same history)."""

    def __init__(self, scenario="spikes", extra_args=(), port=None, data_dir=None):
        super().__init__(*extra_args, scenario=scenario, port=port, data_dir=data_dir,
                         log_prefix="voltwatch-dashboard-")


class Serve(agentkit.Agent):
    """`voltwatch serve --db DB` on a loopback port: the dashboard over a stored history, read-only,
    with no live device. Started, waited for, read and stopped as an `Agent` is."""

    def __init__(self, db, *extra_args):
        self.port = free_port()
        self.args = [voltwatch_binary(), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(self.port),
                     "--config", str(ROOT / "config" / "model_config.json"), *extra_args]
        fd, self.log_path = tempfile.mkstemp(prefix="voltwatch-dashboard-serve-", suffix=".log")
        os.close(fd)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self.log)
        self.wait_serving()
