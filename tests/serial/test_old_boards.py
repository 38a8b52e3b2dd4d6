"""Boards made before channels still work unchanged: firmware 1.0 (a six-field `$HELLO`, then
`$VOLT`) and a bare `Serial.println(volts)` sketch, each fed through a pty the test holds, give
results in the original format, with no channel fields, even beside a settings file that names
other streams."""
import json
import os
import pty
import subprocess
import threading
import tty

import pytest

from agentkit import wait_until

ORIGINAL_KEYS = ["anomaly_score", "is_anomaly", "confidence", "timestamp", "voltage",
                 "device", "seq", "severity", "kinds", "reasons", "episode"]


def sentence(body):
    sum_ = 0
    for b in body.encode():
        sum_ ^= b
    return f"${body}*{sum_:02X}"


def held_pty(tmp_path, name):
    """A pty the test holds as a board: its two ends, and a link named `name` to the one the
    agent opens."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    link = tmp_path / name
    link.symlink_to(os.ttyname(slave))
    return master, slave, link


def stop_board(agent, feeding, *fds):
    """Stops the feeding thread (`feeding`, an Event) and the agent, then closes the pty."""
    feeding.set()
    agent.terminate()
    agent.wait(30)
    for fd in fds:
        os.close(fd)


def old_firmware_lines():
    yield sentence("HELLO,voltage_monitor,1.0.0,uno,5000,10,100")
    for seq in range(1000):
        yield sentence(f"VOLT,{seq},{1000 + seq * 100},512,2.500")


def println_lines():
    for i in range(1000):
        yield f"{2.5 + (i % 3) * 0.001:.3f}"


@pytest.mark.parametrize("board", [old_firmware_lines, println_lines], ids=["firmware-1.0", "println-sketch"])
def test_a_board_from_before_channels_reads_as_before(voltwatch, tmp_path, board):
    master, slave, link = held_pty(tmp_path, "ttyOLD")
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"channels": {"other/A1": {"name": "Elsewhere", "unit": "A"}}}))
    out = tmp_path / "out.jsonl"
    stop = threading.Event()

    def feed():
        # One line per 10 ms, a board's pace sped up; the first line may be eaten by the
        # partial-line rule if the agent opens mid-write, so the board keeps talking.
        lines = board()
        while not stop.is_set():
            line = next(lines, None)
            if line is None:
                return
            try:
                os.write(master, (line + "\r\n").encode())
            except OSError:
                return
            stop.wait(0.01)

    with open(out, "wb") as o, open(tmp_path / "err", "wb") as e:
        agent = subprocess.Popen([voltwatch, "run", "--device", str(link), "--print", "--no-serve",
                                  "--reset-delay-ms", "0", "--settings", str(settings)], stdout=o, stderr=e)
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        assert wait_until(lambda: len(out.read_text().splitlines()) >= 20), (tmp_path / "err").read_text()
    finally:
        stop_board(agent, stop, master, slave)
    results = [json.loads(line) for line in out.read_text().splitlines()[:20]]
    for r in results:
        assert list(r) == ORIGINAL_KEYS, r
        assert r["device"] == "ttyOLD"
        assert abs(r["voltage"] - 2.5) < 0.01
    seqs = [r["seq"] for r in results]
    if board is old_firmware_lines:
        assert seqs == list(range(seqs[0], seqs[0] + 20)), seqs
    else:
        assert seqs == [None] * 20
