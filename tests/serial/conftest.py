"""Shared helpers for the serial-path tests: where the voltwatch binary is."""
import os
import pathlib

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


@pytest.fixture(scope="session")
def voltwatch():
    return voltwatch_binary()
