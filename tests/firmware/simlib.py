"""Shared by the firmware tests: paths, the test scenario, building the firmware and the
simulator, reading the simulator's logs, and checking what the firmware sent against what the
simulated ADC saw."""
from __future__ import annotations

import glob
import os
import queue
import select
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import framecheck

REPO = Path(__file__).resolve().parents[2]
SKETCH = REPO / "firmware" / "voltage_monitor"
ELF = SKETCH / "build-uno" / "voltage_monitor.elf"
SIM_DIR = REPO / "firmware" / "sim"
SIM = SIM_DIR / "voltsim"

# ---- The scenario (simulated seconds == board uptime) ----------------------------------------

VREF = 5.0
STEP = VREF / 1024          # one ADC step, volts
ADC_AVERAGE = 4             # the sketch's ADC_AVERAGE
PERIOD_MS = 100             # the sketch's PERIOD_MS

LEVEL = 2.500               # the known level
NOISE_MV = 3                # sigma per conversion: a real ADC input is never perfectly still
SPIKE_AT, SPIKE_V, SPIKE_LEN = 25.0, 3.500, 0.25
DROPOUT_AT, DROPOUT_LEN = 35.0, 3.0
DRIFT_AT, DRIFT_TO, DRIFT_LEN = 60.0, 3.100, 20.0   # +0.6 V over 20 s = 1.8 V/min
END = 85.0

WAVE_SCRIPT = f"""# firmware end-to-end test waveform (tests/firmware/simlib.py)
0            level   {LEVEL}
0            noise   {NOISE_MV}
{SPIKE_AT}   pulse   {SPIKE_V} {SPIKE_LEN}
{DROPOUT_AT} silence {DROPOUT_LEN}
{DRIFT_AT}   ramp    {DRIFT_TO} {DRIFT_LEN}
{END}        end
"""

# Steady stretches, in uptime seconds, on which no sample may be an anomaly. Margins leave
# out the samples right after an event (the first sample after the dropout *is* the dropout).
STEADY = [
    (0.0, SPIKE_AT - 0.05),
    (SPIKE_AT + SPIKE_LEN + 0.15, DROPOUT_AT - 0.05),
    (DROPOUT_AT + DROPOUT_LEN + 0.35, DRIFT_AT - 0.05),
]


def phase(uptime_s: float) -> str:
    if SPIKE_AT <= uptime_s < SPIKE_AT + SPIKE_LEN:
        return "spike"
    if DROPOUT_AT <= uptime_s < DROPOUT_AT + DROPOUT_LEN + 0.3:
        return "dropout"
    if uptime_s >= DRIFT_AT:
        return "drift"
    for lo, hi in STEADY:
        if lo <= uptime_s < hi:
            return "steady"
    return "edge"


# ---- Building ------------------------------------------------------------------------------------

def build_firmware_and_sim() -> None:
    """Builds the Uno ELF and voltsim (incrementally); skips when the toolchain is absent."""
    missing = [t for t in ("avr-gcc", "avr-size", "make", "cc") if shutil.which(t) is None]
    if not Path("/usr/share/arduino/Arduino.mk").exists():
        missing.append("arduino-mk")
    if not Path("/usr/include/simavr/sim_avr.h").exists():
        missing.append("libsimavr-dev")
    if missing:
        pytest.skip(f"firmware toolchain missing ({', '.join(missing)}); run scripts/setup.sh")
    for args in (["make", "-s", "-C", str(SKETCH), "BOARD_TAG=uno"], ["make", "-s", "-C", str(SIM_DIR)]):
        proc = subprocess.run(args, capture_output=True, text=True)
        assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    assert ELF.is_file() and SIM.is_file()


def find_voltwatch() -> Path:
    """$VOLTWATCH_BIN, else the newest .build*/<config>/voltwatch whose `run` takes --device.

    Skips when there is none (a checkout that has not built the agent); with $VOLTWATCH_BIN
    set (CI), a missing or unfit binary is an error instead.
    """
    env = os.environ.get("VOLTWATCH_BIN")
    if env:
        path = Path(env)
        if not (path.is_file() and os.access(path, os.X_OK)):
            pytest.fail(f"VOLTWATCH_BIN={env} is not an executable")
        if not _runs_devices(path):
            pytest.fail(f"VOLTWATCH_BIN={env}: `voltwatch run` does not take --device")
        return path
    candidates = {Path(p) for p in glob.glob(str(REPO / ".build*" / "*" / "voltwatch"))}
    candidates = sorted((p for p in candidates if p.is_file() and os.access(p, os.X_OK)),
                        key=lambda p: p.stat().st_mtime, reverse=True)
    for path in candidates:
        if _runs_devices(path):
            return path
    pytest.skip("no voltwatch binary with `run --device` (set VOLTWATCH_BIN or swift build); "
                f"looked at {[str(p.relative_to(REPO)) for p in candidates]}")


def _runs_devices(path: Path) -> bool:
    try:
        proc = subprocess.run([str(path), "run", "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and "--device" in proc.stdout + proc.stderr


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- The simulator's logs --------------------------------------------------------------------

def complete_lines(path: Path) -> list[str]:
    """A file's lines as far as its writer has finished them: the simulator's logs and the
    agent's printed results are read while they are written, and a last line without its
    newline is still being written."""
    text = path.read_text()
    lines = text.splitlines()
    if lines and not text.endswith("\n"):
        lines.pop()
    return lines


def read_adc_log(path: Path, channel: int = 0) -> list[tuple[float, float, int]]:
    """(sim_seconds, volts, code) per conversion of input A<channel>, of the last boot.
    (voltsim logs sim_s,volts,code,channel; the channel column is absent in old logs: A0.)"""
    rows: list[tuple[float, float, int]] = []
    for line in complete_lines(path):
        if line.startswith("# boot"):
            rows = []
        elif line and not line.startswith("#"):
            t, v, code, *ch = line.split(",")
            if int(ch[0] if ch else 0) == channel:
                rows.append((float(t), float(v), int(code)))
    return rows


def read_uart_log(path: Path, received: bool = False) -> list[tuple[float, str, str]]:
    """(sim_seconds, fate, line) per line the firmware sent, of the last boot.
    fate: fwd (went to the pty), drop (lost in a silence), hold (delayed by one), closed (nobody
    had the pty open). With received=True, also the lines the host sent the board (fate rx, at
    the time their first byte reached the UART)."""
    rows: list[tuple[float, str, str]] = []
    for line in complete_lines(path):
        if line.startswith("# boot"):
            rows = []
        elif line and not line.startswith("#"):
            t, fate, text = line.split("\t", 2)
            if fate != "rx" or received:
                rows.append((float(t), fate, text))
    return rows


def bursts(adc: list[tuple[float, float, int]]) -> list[tuple[float, list[float], list[int]]]:
    """Groups conversions that follow each other within 2 ms: one group per sample."""
    groups: list[tuple[float, list[float], list[int]]] = []
    last = -1.0
    for t, v, code in adc:
        if groups and t - last < 0.002:
            groups[-1][1].append(v)
            groups[-1][2].append(code)
        else:
            groups.append((t, [v], [code]))
        last = t
    return groups


def burst_for(groups, uptime_ms: int, within: float = 0.003):
    """The conversion burst taken when millis() read `uptime_ms` (starting at most `within`
    seconds later), or None."""
    target = uptime_ms / 1000
    lo, hi = 0, len(groups)
    while lo < hi:  # first burst starting at or after target - 1 ms
        mid = (lo + hi) // 2
        if groups[mid][0] < target - 0.001:
            lo = mid + 1
        else:
            hi = mid
    if lo < len(groups) and groups[lo][0] - target <= within:
        return groups[lo]
    return None


def firmware_millivolts(codes: list[int]) -> int:
    """The sketch's arithmetic: (sum * VREF_MV + divisor / 2) / divisor, in integers."""
    divisor = 1024 * len(codes)
    return (sum(codes) * 5000 + divisor // 2) // divisor


@dataclass
class Sent:
    """One $VOLT frame as the firmware sent it."""
    seq: int
    sim_s: float
    fate: str
    uptime_ms: int
    adc_raw: int
    volts: float
    volts_text: str
    adc_volts: list[float]   # what the ADC saw, per conversion
    adc_codes: list[int]


def check_firmware_output(uart_log: Path, adc_log: Path) -> tuple[str, dict[int, Sent]]:
    """Checks everything the firmware sent against the simulated ADC and the schedule.

    Returns the $HELLO line and the $VOLT frames by seq. Asserts: one valid $HELLO first;
    every line a valid frame; seq contiguous from 0; each frame's adc_raw and volts exactly
    the sketch's integer arithmetic on the codes the ADC produced for it, and volts within one
    ADC step of the waveform; uptime_ms the simulator's clock at sampling; 100 ms spacing with
    no cumulative drift.
    """
    uart = read_uart_log(uart_log)
    assert uart, "the firmware sent nothing"
    hello = uart[0][2]
    h = framecheck.parse(hello.encode())
    assert h is not None and h["tag"] == "HELLO", f"first line is not a valid $HELLO: {hello!r}"
    assert (h["firmware"], h["board"], h["vref_mv"], h["adc_bits"], h["period_ms"], h["channels"]) == \
        ("voltage_monitor", "uno", 5000, 10, PERIOD_MS, ["A0"]), h

    groups = bursts(read_adc_log(adc_log))
    sent: dict[int, Sent] = {}
    for t, fate, line in uart[1:]:
        f = framecheck.parse(line.encode())
        assert f is not None and f["tag"] == "VOLT", f"invalid or unexpected line from the firmware: {line!r}"
        burst = burst_for(groups, f["uptime_ms"])
        assert burst is not None, f"no ADC conversions at uptime {f['uptime_ms']} ms (seq {f['seq']})"
        t0, volts, codes = burst
        sent[f["seq"]] = Sent(f["seq"], t, fate, f["uptime_ms"], f["adc_raw"], f["volts"],
                              f["volts_text"], volts, codes)
    assert sorted(sent) == list(range(len(sent))), "the firmware's seq is not contiguous from 0"

    worst = 0.0
    for s in sent.values():
        assert len(s.adc_codes) == ADC_AVERAGE, (s.seq, s.adc_codes)
        t0 = burst_for(groups, s.uptime_ms)[0]
        # uptime_ms is millis() when sampled: the simulator's clock, less millis()' <1.1 ms lag.
        assert -0.0005 <= t0 - s.uptime_ms / 1000 <= 0.0025, (s.seq, t0, s.uptime_ms)
        mv = firmware_millivolts(s.adc_codes)
        assert s.volts_text == f"{mv // 1000}.{mv % 1000:03d}", (s, mv)
        assert s.adc_raw == (sum(s.adc_codes) + ADC_AVERAGE // 2) // ADC_AVERAGE, s
        seen = sum(s.adc_volts) / len(s.adc_volts)
        err = s.volts - seen
        worst = max(worst, abs(err))
        assert abs(err) <= STEP + 0.0005, (
            f"seq {s.seq}: sent {s.volts} V, the ADC input was {seen:.4f} V (more than one step, {STEP:.4f} V)")

    ordered = [sent[k] for k in sorted(sent)]
    for a, b in zip(ordered, ordered[1:]):
        assert abs((b.uptime_ms - a.uptime_ms) - PERIOD_MS) <= 1, f"seq {a.seq}->{b.seq}: uptime {a.uptime_ms}->{b.uptime_ms}"
    first = ordered[0]
    for s in ordered:
        assert abs(s.uptime_ms - first.uptime_ms - (s.seq - first.seq) * PERIOD_MS) <= 1, \
            f"the schedule drifted: seq {s.seq} at {s.uptime_ms} ms"
    print(f"firmware: {len(sent)} frames, worst |sent - ADC input| = {worst * 1000:.2f} mV "
          f"(one step = {STEP * 1000:.2f} mV)")
    return hello, sent


# ---- Several channels --------------------------------------------------------------------------

def check_volts_frame(frame: dict, adc_logs: dict[str, list], within: float = 0.005) -> None:
    """Checks one $VOLTS frame against what the simulated ADC saw on each of its channels:
    ADC_AVERAGE conversions of that channel right after `uptime_ms` (the channels are converted
    one after another, so the last starts a few ms later), adc_raw and volts exactly the sketch's
    integer arithmetic on their codes, volts within one ADC step of the input.
    `adc_logs`: channel name -> bursts(read_adc_log(path, n))."""
    for c in frame["channels"]:
        burst = burst_for(adc_logs[c["ch"]], frame["uptime_ms"], within)
        assert burst is not None, f"no {c['ch']} conversions at uptime {frame['uptime_ms']} ms: {frame}"
        _, volts, codes = burst
        assert len(codes) == ADC_AVERAGE, (frame, c, codes)
        mv = firmware_millivolts(codes)
        assert c["volts_text"] == f"{mv // 1000}.{mv % 1000:03d}", (frame, c, codes)
        assert c["adc_raw"] == (sum(codes) + ADC_AVERAGE // 2) // ADC_AVERAGE, (frame, c, codes)
        seen = sum(volts) / len(volts)
        assert abs(c["volts"] - seen) <= STEP + 0.0005, (
            f"seq {frame['seq']} {c['ch']}: sent {c['volts']} V, the ADC input was {seen:.4f} V")


class SimBoard:
    """A simulated board on a pty, driven like a real one: open it, send lines, wait for lines.

        with SimBoard(tmp_path, ["--wave", "const:1.0"]) as board:
            board.open()
            hello = board.expect("HELLO")
            board.send("SET,A0+A1,100")

    voltsim runs with --wait-open (the MCU boots when the pty is first opened) and writes its
    ADC and UART logs into `tmp_path`. Lines are read by a background thread; every wait is for
    a line (or an event in a log) with a timeout, never a fixed sleep.
    """

    def __init__(self, tmp_path: Path, args: list[str], speed: str = "0", name: str = "board"):
        build_firmware_and_sim()
        self.dir = tmp_path
        self.link = tmp_path / f"{name}.tty"
        self.adc_log = tmp_path / f"{name}.adc.csv"
        self.uart_log = tmp_path / f"{name}.uart.log"
        self.stderr_path = tmp_path / f"{name}.stderr"
        self.lines: queue.Queue[tuple[float, bytes]] = queue.Queue()
        self.seen: list[bytes] = []   # every line read, in order
        self.fd: int | None = None
        self._opened = False  # whether open() was called before
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                # The MCU boots a real board's 250 ms after the pty is opened (voltsim's default),
                # not at once, as a real board does; open() does not flush on the first open.
                [str(SIM), "--speed", speed, "--wait-open", "--link", str(self.link),
                 "--adc-log", str(self.adc_log), "--uart-log", str(self.uart_log), *args, str(ELF)],
                stdout=subprocess.PIPE, stderr=err)
        first = self.proc.stdout.readline()
        assert first.startswith(b"pty /dev/"), f"voltsim did not start: {first!r}\n{self.stderr()}"
        deadline = time.monotonic() + 5
        while not self.link.exists():
            assert time.monotonic() < deadline, "voltsim made no --link"
            time.sleep(0.01)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def __enter__(self) -> "SimBoard":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
        stop(self.proc)

    def open(self) -> None:
        """Opens the pty (raw, 115200) and starts reading lines."""
        assert self.fd is None
        self.lines = queue.Queue()  # a new session: nothing left over from before a close()
        # The first open boots the MCU (--wait-open), so nothing can be stale: a flush could
        # only drop the start of its HELLO, and did in CI when this process was slow to get
        # from the open to the flush (past the 250 ms boot delay) on a loaded machine. voltsim
        # made the pty raw when it created it, so nothing is mangled before setraw either.
        # Reopened, the pty may hold what the board sent while it was closed: flushed.
        self.fd = framecheck.open_raw(str(self.link), flush=self._opened)
        self._opened = True
        self._stop.clear()
        self._reader = threading.Thread(target=self._read, args=(self.fd,), daemon=True)
        self._reader.start()

    def close(self) -> None:
        if self.fd is None:
            return
        self._stop.set()
        self._reader.join(5)
        os.close(self.fd)
        self.fd = None

    def _read(self, fd: int) -> None:
        buf = b""
        while not self._stop.is_set():
            r, _, _ = select.select([fd], [], [], 0.05)
            if not r:
                continue
            try:
                chunk = os.read(fd, 4096)
            except BlockingIOError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.rstrip(b"\r")
                self.seen.append(line)
                self.lines.put((time.monotonic(), line))

    def send(self, body: str) -> bytes:
        """Sends `$<body>*CS\\r\\n`; returns the bytes sent."""
        data = framecheck.sentence(body)
        self.send_raw(data)
        return data

    def send_raw(self, data: bytes) -> None:
        assert self.fd is not None
        os.write(self.fd, data)

    def next(self, timeout: float = 10) -> dict:
        """The next line, parsed; fails on a timeout or an invalid line."""
        try:
            _, line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line from the board within {timeout} s\n{self.stderr()}") from None
        frame = framecheck.parse(line)
        assert frame is not None, f"invalid line from the board: {line!r}"
        frame["line"] = line.decode()
        return frame

    def expect(self, tag: str, timeout: float = 10, skip: tuple[str, ...] = ()) -> dict:
        """The next line, which must be a `tag` line; lines tagged in `skip` are passed over."""
        while True:
            frame = self.next(timeout)
            if frame["tag"] in skip:
                continue
            assert frame["tag"] == tag, f"expected ${tag}, got {frame['line']!r}"
            return frame

    def frames(self, n: int, timeout: float = 10) -> list[dict]:
        """The next n lines, which must all be sample frames ($VOLT / $VOLTS)."""
        out = [self.next(timeout) for _ in range(n)]
        for f in out:
            assert f["tag"] in ("VOLT", "VOLTS"), f"expected a frame, got {f['line']!r}"
        return out

    def wait_uart_log(self, predicate, what: str, timeout: float = 10) -> None:
        """Waits until a row (sim_s, fate, line) of voltsim's --uart-log satisfies predicate."""
        deadline = time.monotonic() + timeout
        while not any(predicate(row) for row in read_uart_log(self.uart_log, received=True)):
            assert self.proc.poll() is None, f"voltsim exited:\n{self.stderr()}"
            assert time.monotonic() < deadline, f"voltsim's UART log never showed {what}"
            time.sleep(0.01)

    def adc_bursts(self) -> dict[str, list]:
        """Per channel name, the conversion bursts of the current boot (see check_volts_frame)."""
        return {f"A{n}": bursts(read_adc_log(self.adc_log, n)) for n in range(6)}
