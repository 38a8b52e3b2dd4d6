"""Live equals replay: what `run --print` scored live is exactly what `replay` scores from the
same session's recording."""
import pathlib
import signal
import subprocess
import threading

import pytest


@pytest.mark.parametrize("scenario", ["spikes", "noisy"])
def test_recording_replays_to_the_printed_results(voltwatch, tmp_path, scenario):
    record = tmp_path / "rec"
    log = tmp_path / "stderr.log"
    with open(log, "wb") as stderr:
        live = subprocess.Popen(
            [voltwatch, "run", "--fake", scenario, "--fake-period-ms", "10", "--print", "--no-serve",
             "--record", str(record)],
            stdout=subprocess.PIPE, stderr=stderr)
    # Stop once 150 results were printed (what a recording needs to be worth comparing), not
    # after some seconds: the test waits for results, however fast the machine. The rest is
    # read through the same buffered reader (communicate() would skip what it holds).
    printed = []
    while len(printed) < 150:
        line = live.stdout.readline()
        if not line:
            break
        printed.append(line)
    live.send_signal(signal.SIGTERM)
    # An agent that never exits would hold read() forever: kill it after a deadline that only a
    # failing run reaches (the exit status then says so).
    killer = threading.Timer(60, live.kill)
    killer.start()
    try:
        printed.append(live.stdout.read())
        live.wait(timeout=60)
    finally:
        killer.cancel()
    assert live.returncode == 0, log.read_text()
    live_lines = b"".join(printed).decode().splitlines()
    assert len(live_lines) >= 150, log.read_text()
    files = sorted(record.glob("*.rec"))
    assert len(files) == 1, files
    text = files[0].read_text(errors="replace")
    assert text.startswith("# ") and "\tconnected" not in text and "connected /dev/pts/" in text
    replay = subprocess.run([voltwatch, "replay", "--device", "fake", str(files[0])],
                            capture_output=True, timeout=60)
    assert replay.returncode in (0, 65), replay.stderr.decode()
    assert replay.stdout.decode().splitlines() == live_lines
