"""A board that restarts and never samples again is a silent board: its `$HELLO` comes through
a pty the test holds, then nothing, and the agent lists a dropout alarm that says so while the
line is still silent (a reboot that hangs in the sensor's setup used to raise nothing, ever)."""
import json
import os
import subprocess
import threading
import urllib.request

from agentkit import free_port, wait_until
from test_old_boards import held_pty, sentence, stop_board

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_a_board_silent_after_its_hello_alarms_while_silent(voltwatch, tmp_path):
    master, slave, link = held_pty(tmp_path, "ttyHUNG")
    port = free_port()
    stop = threading.Event()
    rebooted = threading.Event()

    def feed():
        # Ten seconds of a firmware-1.0 board, a line every 100 ms, then it reboots: a new
        # `$HELLO`, and not one sample after it. The pty stays open, as a hung board's does.
        seq = 0
        while not stop.is_set() and seq < 100:
            body = sentence("HELLO,voltage_monitor,1.0.0,uno,5000,10,100") if seq == 0 else \
                sentence(f"VOLT,{seq},{seq * 100},512,{2.5 + (seq % 3) * 0.001:.3f}")
            try:
                os.write(master, (body + "\r\n").encode())
            except OSError:
                return
            seq += 1
            stop.wait(0.1)
        os.write(master, (sentence("HELLO,voltage_monitor,1.0.0,uno,5000,10,100") + "\r\n").encode())
        rebooted.set()

    def episodes():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/anomalies?device=ttyHUNG", timeout=5) as r:
                return json.loads(r.read())["anomalies"]
        except OSError:
            return []

    def since_restart():
        return [e for e in episodes() if any("since the board restarted" in r for r in e["reasons"])]

    with open(tmp_path / "err", "wb") as err:
        agent = subprocess.Popen([voltwatch, "run", "--device", str(link), "--host", "127.0.0.1", "--port", str(port),
                                  "--reset-delay-ms", "0", "--no-history",
                                  "--config", os.path.join(ROOT, "config", "model_config.json")],
                                 stdout=subprocess.DEVNULL, stderr=err)
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        assert wait_until(rebooted.is_set, timeout=60), (tmp_path / "err").read_text()
        assert not since_restart(), "nothing before the reboot"
        assert wait_until(since_restart, timeout=30), (episodes(), (tmp_path / "err").read_text())
        alarm = since_restart()[0]
        assert alarm["kinds"] == ["dropout"] and alarm["samples"] == 0 and alarm["open"] is True, alarm
        assert alarm["severity"] == "warning", alarm
    finally:
        stop_board(agent, stop, master, slave)
