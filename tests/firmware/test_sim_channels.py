"""Three channels, firmware in the loop: the real sketch on a simulated ATmega328P with A0, A1
and A2 fed different waveforms, read by the real agent.

The board boots sampling A0 only (a blank EEPROM). The settings file asks for A0+A1+A2, so
the agent sends `$SET` when the board says hello; the board answers with a new `$HELLO` and
`$VOLTS` frames. The settings name A1 "House battery" behind a 20k/10k divider (volts of
battery: 3 × the pin) and A2 "Panel current" in amps (2 × pin − 1). The test checks that the
agent publishes three streams with those names, units and calibrated values (within one ADC
step of the waveform, scaled), scores them apart (a spike on A1 alarms A1 alone), and that a
replay of the recording gives the same names, units and values.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import simlib  # noqa: E402

LINK = "ttySIM3"            # the agent names a board read through --device after the path's last part
A0, A1, A2 = 2.5, 1.2, 1.8   # volts at the pins
SPIKE_AT = 20.0              # simulated seconds: A1 jumps to 2.4 V for a quarter second
END = 32.0
STEP = simlib.STEP


def _wait_for(predicate, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def test_three_channels_are_three_named_calibrated_streams_scored_apart(tmp_path: Path) -> None:
    simlib.build_firmware_and_sim()
    voltwatch = simlib.find_voltwatch()
    link = tmp_path / LINK
    a1_script = tmp_path / "a1.txt"
    a1_script.write_text(f"0 level {A1}\n0 noise 2\n{SPIKE_AT} pulse 2.4 0.25\n{END} end\n")
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({
        "channels": {
            f"{LINK}/A1": {"name": "House battery", "unit": "V", "calibration": {"divider_ohms": [20000, 10000]}},
            f"{LINK}/A2": {"name": "Panel current", "unit": "A", "calibration": {"scale": 2, "offset": -1}},
        },
        "boards": {LINK: {"channels": "A0+A1+A2", "period_ms": 100}},
    }))
    record = tmp_path / "rec"
    out, err = tmp_path / "agent.jsonl", tmp_path / "agent.stderr"
    sim_err = tmp_path / "sim.stderr"
    print(f"\nartifacts: {tmp_path}")
    agent = sim = None
    try:
        with open(out, "wb") as o, open(err, "wb") as e:
            agent = subprocess.Popen(
                [str(voltwatch), "run", "--device", str(link), "--print", "--no-serve", "--record", str(record),
                 "--settings", str(settings), "--reset-delay-ms", "0", "--backoff-ms", "50"],
                stdout=o, stderr=e, cwd=tmp_path)
        with open(sim_err, "wb") as e:
            # Twice real time: the scorer's windows fill in ~3 s of wall time, and the agent's
            # receive-time detectors see frames 50 ms apart, which is not a dropout.
            sim = subprocess.Popen(
                [str(simlib.SIM), "--speed", "2", "--wait-open", "--link", str(link), "--duration", str(END),
                 "--wave", f"const:{A0}", "--noise", "2",
                 "--channel", "A1", "--wave", f"script:{a1_script}",
                 "--channel", "A2", "--wave", f"const:{A2}", "--noise", "2",
                 "--uart-log", str(tmp_path / "uart.log"), str(simlib.ELF)],
                stdout=subprocess.DEVNULL, stderr=e)
        sim.wait(timeout=END + 60)
        assert sim.returncode == 0, f"voltsim failed:\n{sim_err.read_text()}"

        def results():
            # Polled while the agent writes: a last line still being written is left for later.
            return [json.loads(line) for line in simlib.complete_lines(out) if line.strip()]
        _wait_for(lambda: any(r["device"] == f"{LINK}/A2" and r["seq"] is not None and r["seq"] > 100 for r in results()),
                  "the three channels' results")
    finally:
        if sim:
            simlib.stop(sim)
        if agent:
            simlib.stop(agent)

    uart = (tmp_path / "uart.log").read_text()
    assert "\trx\t$SET,A0+A1+A2,100*" in uart, f"the agent did not ask the board for its channels:\n{uart[:2000]}"
    everything = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    streams = {}
    for r in everything:
        streams.setdefault(r["device"], []).append(r)
    # Before the $SET the board sent $VOLT frames of A0: the single-signal stream, original format.
    assert set(streams) <= {LINK, f"{LINK}/A0", f"{LINK}/A1", f"{LINK}/A2"}, set(streams)
    assert all("channel" not in r for r in streams.get(LINK, [])), "a plain stream keeps the original format"
    a0, a1, a2 = streams[f"{LINK}/A0"], streams[f"{LINK}/A1"], streams[f"{LINK}/A2"]

    # Names, units, calibrated values within one ADC step of the waveform (scaled).
    assert {(r["channel"], r["name"], r["unit"]) for r in a0} == {("A0", None, "V")}
    assert {(r["channel"], r["name"], r["unit"]) for r in a1} == {("A1", "House battery", "V")}
    assert {(r["channel"], r["name"], r["unit"]) for r in a2} == {("A2", "Panel current", "A")}
    steady_a1 = [r for r in a1 if not r["is_anomaly"]]
    for r in a0:
        assert abs(r["voltage"] - A0) <= 2 * STEP, r
    for r in steady_a1:
        assert abs(r["pin_volts"] - A1) <= 2 * STEP, r
        assert math.isclose(r["voltage"], 3 * r["pin_volts"], abs_tol=1e-6), r
    for r in a2:
        assert abs(r["pin_volts"] - A2) <= 2 * STEP, r
        assert math.isclose(r["voltage"], 2 * r["pin_volts"] - 1, abs_tol=1e-6), r
        assert abs(r["adc_raw"] * 5 / 1024 - r["pin_volts"]) <= STEP, r

    # Scored apart: the spike on A1 alarms A1, and nothing alarms A0 or A2.
    spikes = [r for r in a1 if r["is_anomaly"] and "spike" in r["kinds"]]
    assert spikes, f"the spike on A1 was not reported: {[(r['seq'], r['voltage'], r['kinds']) for r in a1 if r['is_anomaly']]}"
    assert all(abs(r["pin_volts"] - 2.4) <= 4 * STEP for r in spikes), spikes
    for stream in (a0, a2):
        alarms = [(r["seq"], r["voltage"], r["kinds"]) for r in stream if r["is_anomaly"]]
        assert not alarms, f"{stream[0]['device']} alarmed though only A1 moved: {alarms[:5]}"

    # A replay of the recording shows the same streams, names, units and values as live.
    replay = subprocess.run([str(voltwatch), "replay", *map(str, sorted(record.glob("*.rec")))],
                            capture_output=True, text=True, timeout=60)
    replayed = [json.loads(line) for line in replay.stdout.splitlines() if line.strip()]
    key = lambda r: (r["device"], r["seq"], r.get("name"), r.get("unit"), r["voltage"], r["is_anomaly"])  # noqa: E731
    assert [key(r) for r in replayed] == [key(r) for r in everything], replay.stderr
