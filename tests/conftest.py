"""Every test gets a history directory of its own: agents a test starts (through agentkit or
by hand) keep their history there, never in the user's ~/.local/share/voltwatch, so one test's
alarms never show in another's /api/anomalies."""
import os
import tempfile

import pytest

# Agents started before any test's fixture runs (module- and session-scoped ones) get a
# directory of this run's own, not the user's.
os.environ.setdefault("VOLTWATCH_DATA_DIR", tempfile.mkdtemp(prefix="voltwatch-tests-"))


@pytest.fixture(autouse=True)
def private_history(tmp_path, monkeypatch):
    directory = tmp_path / "voltwatch-data"
    directory.mkdir()
    monkeypatch.setenv("VOLTWATCH_DATA_DIR", str(directory))
    return directory
