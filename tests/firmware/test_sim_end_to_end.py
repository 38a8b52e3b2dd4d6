"""Firmware in the loop: the real sketch on a simulated ATmega328P, read by the real agent.

    firmware/voltage_monitor (ELF) -> simavr (firmware/sim/voltsim: A0 from a waveform, UART0
    on a pty) -> `voltwatch run --device <pty>` (termios, parser, scorer, server)
    -> --print JSON lines, --record DIR, and a WebSocket client on /ws

Nothing is faked in between. The waveform holds a known level with a little noise, then
injects a spike, a dropout (the sim stops forwarding UART lines for a few seconds while the
firmware keeps sampling) and a slow drift. The test checks:

  - $HELLO is recognised (the agent reports the firmware; the line is in the recording);
  - every `seq` arrives, in order, except exactly the frames the sim dropped during the
    dropout; no invalid lines (agent counters and our own checksum check of the recording);
  - every voltage equals what the simulated ADC saw within one ADC step (and equals the
    firmware's integer arithmetic exactly);
  - samples are 100 ms apart in board uptime, without cumulative drift, and `uptime_ms` is
    the simulator's clock when the ADC sampled;
  - the spike, the dropout and the drift each raise `is_anomaly` with the right kind, and
    nothing on the steady parts;
  - the WebSocket client got the same results as --print.

Runs in real time (~95 s): the agent's dropout detector works on receive times, so the
simulation is paced 1:1 with the wall clock.

Needs: gcc-avr, avr-libc, arduino-mk, libsimavr-dev, libelf-dev (scripts/setup.sh), the
Python `websockets` package, and a built agent: $VOLTWATCH_BIN, or the newest
.build*/{debug,release}/voltwatch in the repository. Without a binary the test is skipped
unless $VOLTWATCH_BIN is set (then a missing binary is an error).

Artifacts (agent stdout/stderr, recording, sim ADC and UART logs, WebSocket messages) stay in
pytest's tmp_path; their directory is printed when an assertion fails.
"""
from __future__ import annotations

import asyncio
import json
import math
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import framecheck  # noqa: E402
import simlib  # noqa: E402
from simlib import DRIFT_AT, DROPOUT_AT, DROPOUT_LEN, END, PERIOD_MS  # noqa: E402

# The scorer's shipped windows are sized for hours of service: drift is judged over 60 s and
# armed only after 10 windows of history (11 minutes). The test keeps every shipped threshold
# and shortens the drift window to 4 s, which arms the detector ~47 s into the scenario; the
# ramp starts at 60 s and changes 0.12 V per window (drift_volts is 0.08).
MODEL_CONFIG = {
    "anomaly_threshold": 0.7,
    "window_size": 50,
    "sample_rate": 10,
    "drift_seconds": 4,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebSocketClient:
    """Collects every message of ws://.../ws in a background thread."""

    def __init__(self, url: str):
        self.url = url
        self.messages: list[dict] = []
        self.connected = threading.Event()
        self.error: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self, timeout: float = 20) -> None:
        self._thread.start()
        if not self.connected.wait(timeout):
            raise AssertionError(f"WebSocket {self.url} did not connect: {self.error!r}")

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by the test
            self.error = exc

    async def _main(self) -> None:
        import websockets

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        deadline = time.monotonic() + 15
        while True:
            try:
                ws = await websockets.connect(self.url, max_size=None)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        async with ws:
            self.connected.set()
            stop = asyncio.ensure_future(self._stop.wait())
            while True:
                recv = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait({recv, stop}, return_when=asyncio.FIRST_COMPLETED)
                if recv in done:
                    try:
                        text = recv.result()
                    except Exception:  # closed by the server at shutdown
                        break
                    self.messages.append(json.loads(text))
                if stop in done:
                    recv.cancel()
                    break


def _http_json(url: str, timeout: float = 5):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


def _wait_healthy(base: str, agent: subprocess.Popen, stderr_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if agent.poll() is not None:
            pytest.fail(f"voltwatch run exited with {agent.returncode}:\n{stderr_path.read_text()[-4000:]}")
        try:
            if _http_json(base + "/api/health", timeout=1).get("status") == "healthy":
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"voltwatch run never became healthy:\n{stderr_path.read_text()[-4000:]}")


def _wait_for(predicate, what: str, timeout: float = 60) -> None:
    """Waits for an event; the timeout only bounds a failing test."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def _devices(status) -> list[dict]:
    devices = status.get("devices") if isinstance(status, dict) else None
    assert isinstance(devices, list), f"/api/status has no devices list: {status}"
    return [d for d in devices if d.get("device") != "app"]


def _read_recording(directory: Path) -> list[tuple[int, str]]:
    """(epoch_ms, raw line) for every line the agent recorded (comments and events skipped)."""
    rows: list[tuple[int, str]] = []
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    assert files, f"--record {directory} wrote nothing"
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            if not line or line.startswith("#"):
                continue
            stamp, _, raw = line.partition("\t")
            if stamp.isdigit():
                rows.append((int(stamp), raw))
    return rows


def test_firmware_on_simulated_board_end_to_end(tmp_path: Path) -> None:
    simlib.build_firmware_and_sim()
    voltwatch = simlib.find_voltwatch()
    pytest.importorskip("websockets")

    wave = tmp_path / "wave.txt"
    wave.write_text(simlib.WAVE_SCRIPT)
    config = tmp_path / "model_config.json"
    config.write_text(json.dumps(MODEL_CONFIG))
    link = tmp_path / "ttyVOLTSIM"
    record_dir = tmp_path / "recording"
    record_dir.mkdir()
    adc_log, uart_log = tmp_path / "adc.csv", tmp_path / "uart.log"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"\nartifacts: {tmp_path}")

    agent_out, agent_err = tmp_path / "agent.stdout.jsonl", tmp_path / "agent.stderr"
    sim_err = tmp_path / "sim.stderr"
    agent = sim = ws = None
    try:
        # The agent first (it waits for the device), then a WebSocket client, then the board:
        # the client sees every result from seq 0 on.
        with open(agent_out, "wb") as out, open(agent_err, "wb") as err:
            agent = subprocess.Popen(
                [str(voltwatch), "run", "--device", str(link), "--print", "--record", str(record_dir),
                 "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
                stdout=out, stderr=err, cwd=tmp_path)
        _wait_healthy(base, agent, agent_err)
        ws = WebSocketClient(f"ws://127.0.0.1:{port}/ws")
        ws.start()

        with open(sim_err, "wb") as err:
            sim = subprocess.Popen(
                [str(simlib.SIM), "--wave", f"script:{wave}", "--wait-open", "--link", str(link),
                 "--adc-log", str(adc_log), "--uart-log", str(uart_log), str(simlib.ELF)],
                stdout=subprocess.DEVNULL, stderr=err)
        try:
            sim.wait(timeout=END + 45)  # + the agent's reconnect backoff and the boot delay
        except subprocess.TimeoutExpired:
            pytest.fail(f"the simulation did not finish:\n{sim_err.read_text()}")
        assert sim.returncode == 0, f"voltsim failed:\n{sim_err.read_text()}"
        # The board is gone. Once the agent reports it disconnected, the reader has handled
        # every line before the hang-up: all results are printed and the counters are final.
        # Then the last printed result still has to reach the WebSocket client.
        _wait_for(lambda: [d.get("state") for d in _devices(_http_json(base + "/api/status"))] == ["disconnected"],
                  "the agent to report the board disconnected")
        printed = [json.loads(line) for line in agent_out.read_text().splitlines() if line.strip()]
        if printed:
            last = printed[-1]["seq"]
            _wait_for(lambda: any(m.get("event") == "anomaly_result" and m.get("data", {}).get("seq") == last
                                  for m in list(ws.messages)), f"result {last} to reach the WebSocket client")
        status = _http_json(base + "/api/status")
        (tmp_path / "status.json").write_text(json.dumps(status, indent=1))
    finally:
        if ws:
            ws.stop()
        if sim:
            simlib.stop(sim)
        if agent:
            simlib.stop(agent)
    (tmp_path / "ws.jsonl").write_text("".join(json.dumps(m) + "\n" for m in ws.messages))

    # What the firmware sent, checked against the simulated ADC and the schedule (values
    # within one ADC step, 100 ms apart in uptime, no drift of the schedule).
    hello, sent = simlib.check_firmware_output(uart_log, adc_log)
    dropped = sorted(s.seq for s in sent.values() if s.fate == "drop")
    forwarded = sorted(s.seq for s in sent.values() if s.fate == "fwd")
    assert dropped and dropped == list(range(dropped[0], dropped[-1] + 1)), "no single dropout happened"
    assert all(DROPOUT_AT <= sent[s].sim_s < DROPOUT_AT + DROPOUT_LEN for s in dropped)

    results = [json.loads(line) for line in agent_out.read_text().splitlines() if line.strip()]
    assert results, f"voltwatch printed no results; stderr:\n{agent_err.read_text()[-4000:]}"
    recording = _read_recording(record_dir)

    # -- $HELLO recognised ----------------------------------------------------------------------
    assert any(raw == hello for _, raw in recording), "the agent did not record the $HELLO"
    devices = _devices(status)
    assert len(devices) == 1, f"expected one device in /api/status: {status}"
    device = devices[0]
    assert device.get("firmware") == "voltage_monitor 1.1.0", f"$HELLO not recognised: {device}"

    # -- every seq, in order; nothing invalid; only the dropout's frames missing ---------------------
    seqs = [r["seq"] for r in results]
    assert seqs == forwarded, (
        "the results do not carry exactly the forwarded seqs, in order: "
        f"missing {sorted(set(forwarded) - set(seqs))[:20]}, unexpected {sorted(set(seqs) - set(forwarded))[:20]}")
    assert device.get("invalid") == 0, f"the agent counted invalid lines: {device}"
    assert device.get("lost") == len(dropped), f"lost frames {device.get('lost')} != dropped {len(dropped)}"
    recorded = []
    for _, raw in recording:
        frame = framecheck.parse(raw.encode())
        assert frame is not None, f"an invalid line reached the agent: {raw!r}"
        if frame["tag"] == "VOLT":
            recorded.append(frame["seq"])
    assert recorded == forwarded, "the recording does not hold exactly the forwarded frames"

    # -- the voltages the agent scored are the firmware's, hence the waveform's within one step -----
    for r in results:
        assert math.isclose(r["voltage"], sent[r["seq"]].volts, abs_tol=1e-9), (r, sent[r["seq"]])

    # -- anomalies -----------------------------------------------------------------------------------
    by_phase: dict[str, list[dict]] = {}
    for r in results:
        by_phase.setdefault(simlib.phase(sent[r["seq"]].uptime_ms / 1000), []).append(r)
    brief = lambda rs: [(r["seq"], r["voltage"], round(r["anomaly_score"], 3), r["kinds"]) for r in rs]  # noqa: E731

    # A host too busy to run the simulation in real time holds the board's lines back and then
    # lets them out in a burst: the agent rightly sees a gap in what it received. voltsim notes
    # each such stretch with the simulated time it began at; a dropout flagged within a couple
    # of seconds of one is the detector telling the truth about the delivered stream. Anything
    # else on the steady level is a false alarm.
    stalls = [float(t) for t in re.findall(r"behind wall time at ([\d.]+) s simulated", sim_err.read_text())]

    def host_stall(r):
        t = sent[r["seq"]].uptime_ms / 1000
        return r["kinds"] == ["dropout"] and any(s - 1.0 <= t <= s + 2.0 for s in stalls)

    steady_alarms = [r for r in by_phase.get("steady", []) if r["is_anomaly"]]
    false_alarms = [r for r in steady_alarms if not host_stall(r)]
    assert not false_alarms, (f"anomalies on the steady level: {brief(false_alarms)[:10]}\n"
                              f"voltsim:\n{sim_err.read_text()}")
    if len(false_alarms) < len(steady_alarms):
        print(f"dropouts at host stalls (not counted as false alarms): {brief(steady_alarms)}")

    spike = [r for r in by_phase.get("spike", []) if r["is_anomaly"] and "spike" in r["kinds"]]
    assert spike, f"the spike was not reported: {brief(by_phase.get('spike', []))}"

    after_gap = [r for r in results if r["seq"] == dropped[-1] + 1]
    assert after_gap and after_gap[0]["is_anomaly"] and "dropout" in after_gap[0]["kinds"], \
        f"the dropout was not reported on the first sample after it: {brief(after_gap)}"

    drift = [r for r in by_phase.get("drift", []) if r["is_anomaly"] and "drift" in r["kinds"]]
    assert drift, f"the drift was not reported: {brief(by_phase.get('drift', []))[::10]}"
    print(f"spike flagged on {len(spike)} sample(s); dropout on seq {after_gap[0]['seq']} {after_gap[0]['kinds']}; "
          f"drift first flagged {sent[drift[0]['seq']].uptime_ms / 1000 - DRIFT_AT:.1f} s into the ramp")

    # -- the WebSocket client got the same results --------------------------------------------------
    ws_results = {m["data"]["seq"]: m["data"] for m in ws.messages
                  if m.get("event") == "anomaly_result" and m.get("data", {}).get("device") == results[0]["device"]}
    missing = [r["seq"] for r in results if r["seq"] not in ws_results]
    assert not missing, f"{len(missing)} results never reached the WebSocket client (error {ws.error!r}), e.g. {missing[:10]}"
    for r in results:
        w = ws_results[r["seq"]]
        assert (w["is_anomaly"], sorted(w["kinds"]), w["voltage"]) == (r["is_anomaly"], sorted(r["kinds"]), r["voltage"]), (w, r)
