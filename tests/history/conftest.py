"""Fixtures of the history tests; the helpers are in historykit.py."""
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from historykit import Lab  # noqa: E402


@pytest.fixture
def lab(tmp_path):
    """Agents, /ws recorders and mounts of one test; torn down (recorders, agents, then mounts
    and loop devices) whatever the test did."""
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        lab.teardown()
