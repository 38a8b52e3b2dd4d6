"""Fixtures for `voltwatch calibrate` end to end: a board the test plays through a pty, the
agent reading it, and calibrate itself in a tmux session the test types into."""
import pathlib
import shutil
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from agentkit import voltwatch_binary  # noqa: E402
from calibratekit import PtyAgent, PtyBoard, Tmux  # noqa: E402


@pytest.fixture(scope="session")
def voltwatch():
    return voltwatch_binary()


@pytest.fixture
def board():
    b = PtyBoard()
    yield b
    b.stop()


@pytest.fixture
def agent(voltwatch, board, tmp_path):
    """`voltwatch run --device <the board's pty>` with `<tmp>/settings.json`, serving once the
    board's A1 stream has results."""
    a = PtyAgent(voltwatch, board.path, tmp_path / "settings.json", tmp_path / "agent.log")
    yield a
    a.stop()


@pytest.fixture
def tmux(tmp_path):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: scripts/setup.sh installs it")
    t = Tmux(tmp_path)
    yield t
    t.stop()
