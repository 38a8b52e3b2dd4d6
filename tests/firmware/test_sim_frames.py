"""The firmware on the simulated board, read straight from the pty (no agent): fast (~15 s).

The first test runs the end-to-end scenario on the default (A0 only) firmware and checks its
frames against the simulated ADC and the schedule (see simlib.check_firmware_output), that the
pty carries exactly the lines the simulator forwarded (termios raw, no translation, nothing
lost), and that the dropout is whole lines. It runs at 10x wall time: nothing here depends on
receive times.

The others are the channel feature (issue 18) as a specification: the $SET command sent
through the pty, $HELLO's channel field, $VOLTS frames checked against what voltsim fed each
input, $ERR for every kind of bad command, the period, and the EEPROM across a reset and a
power cycle. They run voltsim flat out (--speed 0) and wait for lines, never for time.
"""
from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

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
            # Boots 250 ms after the open (voltsim's default), after open_raw's flush (simlib.SimBoard).
            [str(simlib.SIM), "--wave", f"script:{wave}", "--speed", "10", "--wait-open",
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



# ---- Channels (issue 18) -----------------------------------------------------------------------

STEP = simlib.STEP
HELLO_LINE = re.compile(r"^\$HELLO,voltage_monitor,1\.1\.0,uno,5000,10,(\d+),([A0-5+]+)\*[0-9A-F]{2}$")
VOLT_LINE = re.compile(r"^\$VOLT,\d+,\d+,\d+,\d\.\d{3}\*[0-9A-F]{2}$")


def ramp(t: float) -> float:
    """The waveform voltsim feeds A2 in these tests: 0.5 V at 0 s rising to 4.5 V at 20 s."""
    return 0.5 + 4.0 * min(t, 20.0) / 20.0


@pytest.fixture
def three_waves(tmp_path: Path) -> list[str]:
    """voltsim options: A0 a constant 1.0 V, A1 a constant 2.5 V, A2 the ramp above."""
    script = tmp_path / "a2.txt"
    script.write_text("0 level 0.5\n0 ramp 4.5 20\n")
    return ["--wave", "const:1.0", "--channel", "A1", "--wave", "const:2.5",
            "--channel", "A2", "--wave", f"script:{script}"]


def expected_volts(ch: str, uptime_ms: int) -> float:
    return {"A0": 1.0, "A1": 2.5, "A2": ramp(uptime_ms / 1000)}.get(ch, 0.0)


def after_hello(board: simlib.SimBoard) -> dict:
    """Waits for the $HELLO that answers a command (frames already on their way come first)."""
    return board.expect("HELLO", skip=("VOLT", "VOLTS"))


def assert_spacing(frames: list[dict], period_ms: int) -> None:
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"seq not contiguous: {seqs}"
    first = frames[0]
    for f in frames:  # on the period's grid, without drift (millis() skips a value now and then)
        assert abs(f["uptime_ms"] - first["uptime_ms"] - (f["seq"] - first["seq"]) * period_ms) <= 1, \
            [g["uptime_ms"] for g in frames]


def test_default_board_says_hello_with_A0_and_sends_the_1_0_VOLT_frames(tmp_path: Path) -> None:
    with simlib.SimBoard(tmp_path, ["--wave", "const:2.5"]) as board:
        board.open()
        hello = board.expect("HELLO")
        m = HELLO_LINE.match(hello["line"])
        assert m and m.groups() == ("100", "A0"), hello["line"]
        frames = board.frames(6)
    for f in frames:
        assert VOLT_LINE.match(f["line"]), f["line"]
        assert abs(f["volts"] - 2.5) <= STEP
    assert [f["seq"] for f in frames] == list(range(6))
    assert_spacing(frames, 100)


def test_set_three_channels_answers_hello_then_VOLTS_frames_from_seq_0(tmp_path: Path, three_waves) -> None:
    with simlib.SimBoard(tmp_path, three_waves) as board:
        board.open()
        board.expect("HELLO")
        board.frames(2)
        board.send("SET,A0+A1+A2,100")
        hello = after_hello(board)
        assert HELLO_LINE.match(hello["line"]).groups() == ("100", "A0+A1+A2"), hello["line"]
        assert hello["channels"] == ["A0", "A1", "A2"] and hello["period_ms"] == 100
        frames = board.frames(20)
        adc = board.adc_bursts()
    assert [f["tag"] for f in frames] == ["VOLTS"] * 20
    assert [f["seq"] for f in frames] == list(range(20))
    assert_spacing(frames, 100)
    for f in frames:
        assert [c["ch"] for c in f["channels"]] == ["A0", "A1", "A2"], f["line"]
        for c in f["channels"]:
            want = expected_volts(c["ch"], f["uptime_ms"])
            assert abs(c["volts"] - want) <= STEP + 0.001, f"{c['ch']} {c['volts']} V, the input was {want:.4f} V: {f['line']}"
        simlib.check_volts_frame(f, adc)
    # the ramp is really moving on A2 while A0 and A1 stay put
    assert frames[-1]["channels"][2]["volts"] - frames[0]["channels"][2]["volts"] > 0.3


def test_channels_in_any_order_are_reported_ascending_and_unwired_inputs_read_0_V(tmp_path: Path, three_waves) -> None:
    with simlib.SimBoard(tmp_path, three_waves) as board:
        board.open()
        board.expect("HELLO")
        board.send("SET,A5+A1+A3,40")
        hello = after_hello(board)
        assert HELLO_LINE.match(hello["line"]).groups() == ("40", "A1+A3+A5"), hello["line"]
        frames = board.frames(5)
    for f in frames:
        assert [(c["ch"], c["volts"]) for c in f["channels"]] == [("A1", 2.5), ("A3", 0.0), ("A5", 0.0)], f["line"]
    assert_spacing(frames, 40)


def test_a_single_channel_other_than_A0_uses_VOLTS_and_a_new_period_spaces_the_frames(tmp_path: Path, three_waves) -> None:
    with simlib.SimBoard(tmp_path, three_waves) as board:
        board.open()
        board.expect("HELLO")
        board.frames(3)
        board.send("SET,A1,250")
        hello = after_hello(board)
        assert HELLO_LINE.match(hello["line"]).groups() == ("250", "A1"), hello["line"]
        frames = board.frames(6)
        received = [t for t, fate, line in simlib.read_uart_log(board.uart_log, received=True) if fate == "rx"]
    for f in frames:
        assert f["tag"] == "VOLTS" and [c["ch"] for c in f["channels"]] == ["A1"], f["line"]
        assert f["line"].startswith(f"$VOLTS,{f['seq']},{f['uptime_ms']},A1,512,2.500*")
    assert [f["seq"] for f in frames] == list(range(6))
    assert_spacing(frames, 250)
    # The schedule restarts at the command: the first frame one period after it arrived (its
    # first byte reached the UART at `received`, its last ~1.4 ms later; millis() lags ~1 ms).
    assert len(received) == 1
    assert 249 <= frames[0]["uptime_ms"] - received[0] * 1000 <= 255, (received, frames[0])


def test_back_to_A0_alone_is_the_1_0_format_again(tmp_path: Path) -> None:
    with simlib.SimBoard(tmp_path, []) as board:
        board.open()
        board.expect("HELLO")
        board.send("SET,A0+A4,100")
        assert after_hello(board)["channels"] == ["A0", "A4"]
        assert board.frames(1)[0]["tag"] == "VOLTS"
        board.send("SET,A0,100")
        hello = after_hello(board)
        assert HELLO_LINE.match(hello["line"]).groups() == ("100", "A0")
        frames = board.frames(3)
    assert all(VOLT_LINE.match(f["line"]) for f in frames) and [f["seq"] for f in frames] == [0, 1, 2]


def test_six_channels_at_the_shortest_period_fit_the_line_and_the_wire(tmp_path: Path, three_waves) -> None:
    with simlib.SimBoard(tmp_path, three_waves) as board:
        board.open()
        board.expect("HELLO")
        board.send("SET,A5+A4+A3+A2+A1+A0,20")
        hello = after_hello(board)
        assert HELLO_LINE.match(hello["line"]).groups() == ("20", "A0+A1+A2+A3+A4+A5")
        frames = board.frames(50)
        adc = board.adc_bursts()
    assert [f["seq"] for f in frames] == list(range(50)), "a frame was lost at 20 ms"
    assert_spacing(frames, 20)
    for f in frames:
        assert len(f["line"]) + 2 <= 128
        assert [c["ch"] for c in f["channels"]] == ["A0", "A1", "A2", "A3", "A4", "A5"]
        simlib.check_volts_frame(f, adc)


BAD_COMMANDS = [
    # (what is sent, the reason the board gives)
    (b"$SET,A0+A1,100*00\r\n", "checksum"),
    (b"$SET,A0+A1,100\r\n", "checksum"),                        # no checksum at all
    (framecheck.sentence("SET,A7,100"), "bad channel"),
    (framecheck.sentence("SET,A0+B1,100"), "bad channel"),
    (framecheck.sentence("SET,,100"), "bad channel"),
    (framecheck.sentence("SET,A1+A1,100"), "duplicate channel"),
    (framecheck.sentence("SET,A0,19"), "bad period"),
    (framecheck.sentence("SET,A0,60001"), "bad period"),
    (framecheck.sentence("SET,A0,1e3"), "bad period"),
    (framecheck.sentence("SET,A0"), "syntax"),
    (framecheck.sentence("GET,A0,100"), "unknown command"),
    (framecheck.sentence("SET,A0," + "0" * 50 + "100"), "bad period"),   # 64 bytes: not too long
    (framecheck.sentence("SET,A0," + "0" * 51 + "100"), "too long"),     # 65 bytes
    (framecheck.sentence("SET," + "A0+" * 30 + "A1,100"), "too long"),
]


def test_bad_commands_get_ERR_and_change_nothing(tmp_path: Path) -> None:
    assert len(BAD_COMMANDS[11][0]) == 64 + 2 and len(BAD_COMMANDS[12][0]) == 65 + 2
    with simlib.SimBoard(tmp_path, ["--wave", "const:2.5"]) as board:
        board.open()
        board.expect("HELLO")
        frames = board.frames(2)
        reasons = []
        for data, _ in BAD_COMMANDS:
            board.send_raw(data)
            while True:  # frames keep coming while the board answers
                f = board.next()
                if f["tag"] == "ERR":
                    reasons.append(f["reason"])
                    break
                assert f["tag"] == "VOLT", f"expected $VOLT or $ERR, got {f['line']!r}"
                frames.append(f)
        frames += board.frames(3)
    assert reasons == [reason for _, reason in BAD_COMMANDS]
    # unchanged: the same $VOLT frames, seq never reset, the 100 ms period kept
    assert all(VOLT_LINE.match(f["line"]) for f in frames)
    assert [f["seq"] for f in frames] == list(range(len(frames)))
    assert_spacing(frames, 100)


def test_noise_before_the_dollar_and_lower_case_checksums_and_LF_only_are_accepted(tmp_path: Path) -> None:
    with simlib.SimBoard(tmp_path, []) as board:
        board.open()
        board.expect("HELLO")
        line = framecheck.sentence("SET,A3,28")         # $SET,A3,28*3A\r\n
        assert line.endswith(b"*3A\r\n")
        board.send_raw(b"\x00junk" + line[:-4] + b"3a\n")
        hello = after_hello(board)
        assert (hello["channels"], hello["period_ms"]) == (["A3"], 28)
        board.send_raw(b"\r\n\n")                        # empty lines: no answer at all
        board.send("SET,A4,100")
        assert after_hello(board)["channels"] == ["A4"]


def test_the_setting_survives_a_reset_in_EEPROM(tmp_path: Path) -> None:
    """--reset-on-open resets the MCU whenever the pty is opened, as an Uno's DTR does; simavr
    keeps the EEPROM across avr_reset, as the chip does."""
    with simlib.SimBoard(tmp_path, ["--reset-on-open"]) as board:
        board.open()
        assert board.expect("HELLO")["channels"] == ["A0"]
        board.send("SET,A2+A0,200")
        assert after_hello(board)["channels"] == ["A0", "A2"]
        board.frames(1)
        board.close()
        board.wait_uart_log(lambda row: row[1] == "closed", "a line sent while the pty was closed")
        board.open()   # resets the MCU
        hello = board.expect("HELLO")
        frames = board.frames(3)
    assert "# boot 2" in board.uart_log.read_text(), "the board was not reset"
    assert HELLO_LINE.match(hello["line"]).groups() == ("200", "A0+A2"), hello["line"]
    assert [f["seq"] for f in frames] == [0, 1, 2] and frames[0]["uptime_ms"] < 1000
    assert all([c["ch"] for c in f["channels"]] == ["A0", "A2"] for f in frames)
    assert_spacing(frames, 200)


def test_the_setting_survives_a_power_cycle_and_a_blank_or_foreign_EEPROM_means_the_defaults(tmp_path: Path) -> None:
    eeprom = tmp_path / "eeprom.bin"
    with simlib.SimBoard(tmp_path, ["--eeprom", str(eeprom)], name="first") as board:
        board.open()
        assert HELLO_LINE.match(board.expect("HELLO")["line"]).groups() == ("100", "A0")  # blank
        board.send("SET,A3+A1,500")
        assert after_hello(board)["channels"] == ["A1", "A3"]
        board.frames(1)
    image = eeprom.read_bytes()
    assert len(image) == 1024 and image[6:] == b"\xff" * (1024 - 6)
    assert image[:5] == bytes([0x76, 1, 0b1010, 500 & 0xFF, 500 >> 8])
    with simlib.SimBoard(tmp_path, ["--eeprom", str(eeprom)], name="second") as board:
        board.open()
        hello = board.expect("HELLO")
        frame = board.frames(1)[0]
    assert HELLO_LINE.match(hello["line"]).groups() == ("500", "A1+A3")
    assert [c["ch"] for c in frame["channels"]] == ["A1", "A3"]

    for name, content in [("torn", image[:5] + bytes([image[5] ^ 1])), ("foreign", b"\x00" * 64),
                          ("bad-period", bytes([0x76, 1, 1, 5, 0]))]:
        path = tmp_path / f"{name}.bin"
        path.write_bytes(content)
        with simlib.SimBoard(tmp_path, ["--eeprom", str(path)], name=name) as board:
            board.open()
            hello = board.expect("HELLO")
            frame = board.frames(1)[0]
        assert HELLO_LINE.match(hello["line"]).groups() == ("100", "A0"), (name, hello["line"])
        assert frame["tag"] == "VOLT", name


def test_the_boards_own_lines_echoed_back_get_no_answer(tmp_path: Path) -> None:
    """A host tty left in cooked mode echoes the board's output back to it. Answering those
    with $ERR (echoed again, answered again ...) would never end, so they are ignored."""
    with simlib.SimBoard(tmp_path, []) as board:
        board.open()
        hello = board.expect("HELLO")
        frames = board.frames(2)
        volts = framecheck.sentence("VOLTS,0,309," + ",".join(f"A{n},1023,4.995" for n in range(6)))
        assert len(volts) > 64 + 2   # would be "too long" if it were a command
        echo = [hello["line"], frames[0]["line"], frames[1]["line"], "$ERR,checksum*64"]
        board.send_raw(b"".join(line.encode() + b"\r\n" for line in echo) + volts)
        board.send("SET,A1,100")
        answer = board.expect("HELLO", skip=("VOLT",))   # no $ERR before it
    assert answer["channels"] == ["A1"]
