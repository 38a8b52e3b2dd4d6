"""Live equals replay: what `run --print` scored live is exactly what `replay` scores from the
same session's recording."""
import pathlib
import signal
import subprocess

import pytest


@pytest.mark.parametrize("scenario", ["spikes", "noisy"])
def test_recording_replays_to_the_printed_results(voltwatch, tmp_path, scenario):
    record = tmp_path / "rec"
    live = subprocess.Popen(
        [voltwatch, "run", "--fake", scenario, "--fake-period-ms", "10", "--print", "--no-serve",
         "--record", str(record)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Stop once 150 results were printed (what a recording needs to be worth comparing), not
    # after some seconds: the test waits for results, however fast the machine.
    printed = []
    while len(printed) < 150:
        line = live.stdout.readline()
        if not line:
            break
        printed.append(line)
    live.send_signal(signal.SIGTERM)
    out, err = live.communicate(timeout=60)
    assert live.returncode == 0, err.decode()
    live_lines = b"".join(printed + [out]).decode().splitlines()
    assert len(live_lines) >= 150, err.decode()
    files = sorted(record.glob("*.rec"))
    assert len(files) == 1, files
    text = files[0].read_text(errors="replace")
    assert text.startswith("# ") and "\tconnected" not in text and "connected /dev/pts/" in text
    replay = subprocess.run([voltwatch, "replay", "--device", "fake", str(files[0])],
                            capture_output=True, timeout=60)
    assert replay.returncode in (0, 65), replay.stderr.decode()
    assert replay.stdout.decode().splitlines() == live_lines
