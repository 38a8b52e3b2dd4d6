"""`voltwatch calibrate` as a person uses it: in a terminal (tmux), against the running agent,
which reads a board the test plays through a pty. The test types what the person would, waits
for what they would see, and checks the settings file and what the agent makes of it after
SIGHUP."""
import json
import re

import pytest
from websockets.sync.client import connect

from agentkit import EVENT_TIMEOUT, free_port, wait_until


def latest_live_line(screen):
    lines = [line for line in screen.splitlines() if "live: pin" in line]
    return lines[-1] if lines else ""


def pin_reads(screen, volts):
    """The newest live line shows `volts` at the pin."""
    return f"pin {volts:.3f} V" in latest_live_line(screen)


def calibrate(voltwatch, agent, *args):
    return [voltwatch, "calibrate", f"{agent.stream}", "--agent", agent.url, "--settings", str(agent.settings), *args]


def line_through(points):
    (x1, y1), (x2, y2) = points
    scale = (y2 - y1) / (x2 - x1)
    return lambda pin: scale * pin + (y1 - scale * x1)


def test_two_known_values_calibrate_a_channel_and_the_agent_reads_it_after_sighup(voltwatch, board, agent, tmux):
    tmux.start(calibrate(voltwatch, agent, "--samples", "5"))
    tmux.wait_for_text("Apply the first known value, then type it in V and press Enter")
    tmux.wait_for(lambda s: pin_reads(s, 1.0), "the live line at 1.000 V")
    tmux.type("11")
    tmux.wait_for_text("point 1: 11 V at pin 1.0000 V")

    board.set_a1(2.0)
    tmux.wait_for_text("Apply the second known value")
    tmux.wait_for(lambda s: pin_reads(s, 2.0), "the live line at 2.000 V")
    tmux.type("22")
    tmux.wait_for_text("point 2: 22 V at pin 2.0000 V")
    tmux.wait_for_text("calibration: value = 11 × pin (V)")
    tmux.wait_for(lambda s: "22.000 V with the new calibration" in latest_live_line(s), "the live value under the new calibration")

    tmux.wait_for_text(f"Name for {agent.stream} (Enter for none):")
    tmux.type("House battery")
    tmux.wait_for_text("Unit [V] (Enter keeps it):")
    tmux.type("V")
    tmux.wait_for_text(f"wrote {agent.stream} to {agent.settings}")
    assert tmux.wait_exit() == 0, tmux.screen()
    screen = tmux.screen()
    assert "systemctl reload voltwatch" in screen and f"kill -HUP {agent.proc.pid}" in screen, screen

    entry = json.loads(agent.settings.read_text())["channels"][agent.stream]
    assert entry["name"] == "House battery" and entry["unit"] == "V", entry
    value = line_through(entry["calibration"]["points"])
    assert value(1.0) == pytest.approx(11.0) and value(2.0) == pytest.approx(22.0), entry

    # The agent applies the file on SIGHUP: its results for the stream now read 22 V at the
    # pin's 2 V, named and in volts.
    agent.reload()
    with connect(f"ws://127.0.0.1:{agent.port}/ws", open_timeout=10) as ws:
        def calibrated():
            while True:
                event = json.loads(ws.recv(timeout=EVENT_TIMEOUT))
                data = event["data"]
                if (event["event"] == "anomaly_result" and data["device"] == agent.stream
                        and data.get("name") == "House battery"):
                    return data
        data = calibrated()
    assert data["voltage"] == pytest.approx(22.0, abs=0.05), data
    assert data["unit"] == "V" and data["pin_volts"] == pytest.approx(2.0, abs=0.005), data
    assert "reloaded settings" in agent.log_text()


def test_a_divider_needs_no_measurement_and_shows_the_live_value(voltwatch, board, agent, tmux):
    agent.settings.write_text(json.dumps({"channels": {agent.stream: {"name": "Old name", "min": 11.8}}}))
    tmux.start(calibrate(voltwatch, agent, "--divider", "100000,10000", "--unit", "V"))
    tmux.wait_for_text("value = 11 × pin")
    tmux.wait_for_text("live: pin 1.000 V, reads 1.000 V now, 11.000 V with the divider")
    tmux.wait_for_text(f"Name for {agent.stream} [Old name] (Enter keeps it):")
    tmux.type("")
    tmux.wait_for_text(f"wrote {agent.stream} to {agent.settings}")
    assert tmux.wait_exit() == 0, tmux.screen()
    entry = json.loads(agent.settings.read_text())["channels"][agent.stream]
    assert entry["calibration"] == {"divider_ohms": [100000, 10000]}, entry
    assert entry["name"] == "Old name" and entry["min"] == 11.8 and entry["unit"] == "V", entry


def test_q_stops_without_touching_the_file(voltwatch, board, agent, tmux):
    original = json.dumps({"channels": {agent.stream: {"name": "Keep me", "calibration": {"scale": 3}}}}, indent=1)
    agent.settings.write_text(original)
    before = agent.settings.stat()
    # The agent applies it, so "reads ... now" is the value under the calibration in force.
    agent.reload()
    assert wait_until(lambda: (agent.stream_status(agent.stream) or {}).get("name") == "Keep me"), agent.log_text()
    tmux.start(calibrate(voltwatch, agent))
    tmux.wait_for_text("Apply the first known value")
    tmux.wait_for(lambda s: "reads 3.000 V now" in latest_live_line(s), "the value under the calibration in force")
    tmux.type("q")
    assert tmux.wait_exit() == 1, tmux.screen()
    assert "nothing was written" in tmux.screen()
    assert agent.settings.read_text() == original
    assert agent.settings.stat().st_mtime_ns == before.st_mtime_ns
    assert not agent.settings.with_name(agent.settings.name + ".tmp").exists()


def test_end_of_input_at_a_prompt_stops_without_writing(voltwatch, board, agent, tmux):
    tmux.start(calibrate(voltwatch, agent, "--divider", "100k,10k", "--unit", "V"))
    tmux.wait_for_text(f"Name for {agent.stream} (Enter for none):")
    tmux._tmux("send-keys", "-t", tmux.session, "C-d")
    assert tmux.wait_exit() == 1, tmux.screen()
    assert "nothing was written" in tmux.screen()
    assert not agent.settings.exists()


def test_an_unknown_stream_is_named_with_the_streams_the_agent_knows(voltwatch, board, agent):
    import subprocess
    device = agent.stream.split("/")[0]
    out = subprocess.run([voltwatch, "calibrate", f"{device}/A5", "--agent", agent.url, "--settings", str(agent.settings)],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=EVENT_TIMEOUT)
    assert out.returncode == 69, out.stderr
    assert f"no result for {device}/A5 arrived" in out.stderr, out.stderr
    assert agent.stream in out.stderr and "nothing was written" in out.stderr
    assert not agent.settings.exists()


def test_no_agent_is_said_at_once(voltwatch, tmp_path):
    import subprocess
    out = subprocess.run([voltwatch, "calibrate", "fake/A1", "--agent", f"http://127.0.0.1:{free_port()}",
                          "--settings", str(tmp_path / "settings.json")],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=EVENT_TIMEOUT)
    assert out.returncode == 69, out.stderr
    assert "cannot reach the agent" in out.stderr and "Is `voltwatch run` running" in out.stderr, out.stderr
    assert not (tmp_path / "settings.json").exists()


def test_a_broken_settings_file_is_reported_and_left_alone(voltwatch, tmp_path):
    import subprocess
    settings = tmp_path / "settings.json"
    settings.write_text('{"channels": {"fake/A1": {"unit": ""}}}')
    out = subprocess.run([voltwatch, "calibrate", "fake/A1", "--divider", "100k,10k", "--settings", str(settings)],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=EVENT_TIMEOUT)
    assert out.returncode == 78, out.stderr
    assert re.search(r"channels\.fake/A1\.unit", out.stderr), out.stderr
    assert settings.read_text() == '{"channels": {"fake/A1": {"unit": ""}}}'
