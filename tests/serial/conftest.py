"""Shared helpers for the serial-path tests: where the voltwatch binary is."""
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from agentkit import ROOT, voltwatch_binary  # noqa: E402,F401


@pytest.fixture(scope="session")
def voltwatch():
    return voltwatch_binary()
