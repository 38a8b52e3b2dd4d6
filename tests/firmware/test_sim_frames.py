"""The firmware on the simulated board, read straight from the pty (no agent): fast (~10 s).

Checks the firmware's frames against the simulated ADC and the schedule (see
simlib.check_firmware_output), that the pty carries exactly the lines the simulator forwarded
(termios raw, no translation, nothing lost), and that the dropout is whole lines.
Runs the scenario at 10x wall time: nothing here depends on receive times.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import framecheck  # noqa: E402
import simlib  # noqa: E402


def test_firmware_frames_on_simulated_board(tmp_path: Path) -> None:
    simlib.build_firmware_and_sim()
    wave = tmp_path / "wave.txt"
    wave.write_text(simlib.WAVE_SCRIPT)
    link = tmp_path / "tty"
    adc_log, uart_log, sim_err = tmp_path / "adc.csv", tmp_path / "uart.log", tmp_path / "sim.stderr"
    with open(sim_err, "wb") as err:
        sim = subprocess.Popen(
            [str(simlib.SIM), "--wave", f"script:{wave}", "--speed", "10", "--wait-open", "--boot-delay", "0",
             "--link", str(link), "--adc-log", str(adc_log), "--uart-log", str(uart_log), str(simlib.ELF)],
            stdout=subprocess.PIPE, stderr=err)
    try:
        assert sim.stdout.readline().startswith(b"pty /dev/"), sim_err.read_text()
        deadline = time.monotonic() + 5
        while not link.exists():
            assert time.monotonic() < deadline, "voltsim made no --link"
            time.sleep(0.01)
        fd = framecheck.open_raw(str(link))
        received: list[bytes] = []
        reader = threading.Thread(target=lambda: received.extend(
            line for _, line in framecheck.read_lines(fd, simlib.END / 10 + 20)), daemon=True)
        reader.start()
        assert sim.wait(timeout=simlib.END / 10 + 30) == 0, sim_err.read_text()
        reader.join(30)
    finally:
        simlib.stop(sim)
    stderr = sim_err.read_text()
    assert "0 bytes unwritten" in stderr, stderr

    hello, sent = simlib.check_firmware_output(uart_log, adc_log)
    forwarded = [line for _, fate, line in simlib.read_uart_log(uart_log) if fate == "fwd"]
    assert [r.decode() for r in received] == forwarded, "the pty did not carry exactly the forwarded lines"
    assert received[0].decode() == hello

    dropped = sorted(s.seq for s in sent.values() if s.fate == "drop")
    assert dropped == list(range(dropped[0], dropped[-1] + 1))
    assert all(simlib.DROPOUT_AT <= sent[s].sim_s < simlib.DROPOUT_AT + simlib.DROPOUT_LEN for s in dropped)
    assert abs(len(dropped) - simlib.DROPOUT_LEN * 1000 / simlib.PERIOD_MS) <= 1

    # The waveform reached the board: the level, the spike and the end of the drift.
    by_time = sorted(sent.values(), key=lambda s: s.uptime_ms)
    def volts_at(t: float) -> float:
        return min(by_time, key=lambda s: abs(s.uptime_ms / 1000 - t)).volts
    assert abs(volts_at(10) - simlib.LEVEL) < 0.02
    assert abs(volts_at(simlib.SPIKE_AT + 0.1) - simlib.SPIKE_V) < 0.02
    assert abs(volts_at(simlib.DRIFT_AT + simlib.DRIFT_LEN + 2) - simlib.DRIFT_TO) < 0.02
