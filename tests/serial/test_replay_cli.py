"""`voltwatch replay` through the real binary: files that hold nothing to score (the engineer who
points it at the wrong file is told so and gets exit status 65, and the good files beside it are
still scored), captures that start in the middle of a line, and standard input as `-`."""
import functools
import json
import subprocess


def replay(voltwatch, *files, out_dir=None, stdin=None):
    args = [voltwatch, "replay", *(["--out-dir", str(out_dir)] if out_dir else []), *map(str, files)]
    return subprocess.run(args, capture_output=True, timeout=60,
                          **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}))


def frame(seq, volts=2.5):
    """A `$VOLT` line as the firmware prints it: NMEA checksum over the bytes between $ and *."""
    body = f"VOLT,{seq},{1000 + seq * 100},{round(volts / 5 * 1023)},{volts:.3f}"
    checksum = functools.reduce(lambda a, b: a ^ b, body.encode(), 0)
    return f"${body}*{checksum:02X}\r\n"


def test_a_file_of_refused_lines_is_named_and_fails_the_run(voltwatch, tmp_path):
    png = tmp_path / "photo.rec"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\n")
    done = replay(voltwatch, png)
    assert done.returncode == 65, done.stderr.decode()
    assert done.stdout == b""
    err = done.stderr.decode()
    assert f"nothing to score in {png}: no line could be scored: 3 invalid lines" in err, err


def test_an_empty_file_is_named_and_fails_the_run(voltwatch, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    done = replay(voltwatch, empty)
    assert done.returncode == 65
    assert f"nothing to score in {empty}: the file is empty" in done.stderr.decode()


def test_good_files_beside_a_bad_one_are_still_scored(voltwatch, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("timestamp_ms,voltage\n" + "".join(f"{1_700_000_000_000 + i * 100},2.5\n" for i in range(50)))
    bad = tmp_path / "bad.rec"
    bad.write_bytes(b"\x00\xff\xfe garbage\n")
    out = tmp_path / "out"
    done = replay(voltwatch, bad, good, out_dir=out)
    assert done.returncode == 65, done.stderr.decode()
    lines = (out / "good.jsonl").read_text().splitlines()
    assert len(lines) == 50
    assert json.loads(lines[0])["voltage"] == 2.5
    assert (out / "bad.jsonl").read_text() == ""


def test_a_capture_that_starts_mid_line_is_scored_and_its_first_line_counted(voltwatch, tmp_path):
    # `cat /dev/ttyACM0 > capture.log` started while the board was sending: the first line is
    # the tail of a frame, with commas. It used to be taken for a CSV header, and every frame
    # after it refused (exit 65, 0 samples).
    capture = tmp_path / "capture.log"
    capture.write_text("7,4200,512,2.502*5C\r\n" + "".join(frame(seq) for seq in range(8, 58)))
    done = replay(voltwatch, capture)
    err = done.stderr.decode()
    assert done.returncode == 0, err
    results = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [r["seq"] for r in results] == list(range(8, 58))
    assert all(r["voltage"] == 2.5 and r["device"] == "capture" for r in results)
    assert "50 samples" in err, err
    assert "invalid lines: 1 (checksum 0, syntax 1" in err, err


def test_dash_reads_standard_input(voltwatch, tmp_path):
    csv = "timestamp_ms,voltage\n" + "".join(f"{1_700_000_000_000 + i * 100},2.5\n" for i in range(40))
    done = replay(voltwatch, "-", stdin=csv.encode())
    assert done.returncode == 0, done.stderr.decode()
    results = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(results) == 40
    assert results[0]["timestamp"] == 1_700_000_000.0
    assert {r["device"] for r in results} == {"stdin"}
    assert "40 samples" in done.stderr.decode()


def test_dash_beside_files_and_with_an_out_dir(voltwatch, tmp_path):
    capture = tmp_path / "day.log"
    capture.write_text("".join(frame(seq) for seq in range(10)))
    out = tmp_path / "out"
    done = replay(voltwatch, capture, "-", out_dir=out, stdin="".join(frame(seq) for seq in range(20)).encode())
    assert done.returncode == 0, done.stderr.decode()
    assert len((out / "day.jsonl").read_text().splitlines()) == 10
    assert len((out / "stdin.jsonl").read_text().splitlines()) == 20


def test_empty_standard_input_is_named_as_such(voltwatch):
    done = replay(voltwatch, "-", stdin=b"")
    assert done.returncode == 65
    assert "nothing to score in standard input: the file is empty" in done.stderr.decode()


def test_dash_twice_is_refused_before_reading(voltwatch):
    done = replay(voltwatch, "-", "-", stdin=b"2.5\n")
    assert done.returncode == 64, done.stderr.decode()
    assert "can be given only once" in done.stderr.decode()


def test_a_silence_replayed_into_history_is_the_alarm_live_would_have_raised(voltwatch, tmp_path):
    # Two minutes at 10 Hz, 20 s of silence, one more minute: live, the dropout episode opens a
    # timeout (1 s) into the silence and the returning sample joins it; a replay into a history
    # store must keep that episode, not one that starts when the line came back.
    import random
    import sqlite3
    noise = random.Random(7)
    times = [1_732_170_000_000 + i * 100 for i in range(1_200)]
    times += [times[-1] + 20_000 + i * 100 for i in range(600)]
    trace = tmp_path / "silence.csv"
    trace.write_text("timestamp_ms,voltage\n" + "".join(f"{t},{2.5 + noise.gauss(0, 0.005):.4f}\n" for t in times))
    db = tmp_path / "history.sqlite"
    out = tmp_path / "out"
    run = subprocess.run([voltwatch, "replay", "--db", str(db), "--out-dir", str(out), str(trace)],
                         capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr.decode()
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT id, start_ms, end_ms, samples, open, severity FROM episodes WHERE kinds LIKE '%dropout%'").fetchall()
    assert len(rows) == 1, rows
    episode, start_ms, end_ms, samples, is_open, severity = rows[0]
    assert start_ms == times[1_199] + 1_000, "it starts a timeout into the silence"
    assert end_ms == times[1_200] and samples == 1 and is_open == 0, rows
    results = [json.loads(line) for line in (out / "silence.jsonl").read_text().splitlines()]
    assert results[1_200]["episode"] == episode and "dropout" in results[1_200]["kinds"]
    assert results[1_199]["episode"] is None


def test_a_reload_in_a_recording_ends_the_alarm_in_history_as_it_did_live(voltwatch, tmp_path):
    # Live, a reload writes the new settings into the recording and ends the alarm in
    # progress (every signal starts afresh). Here a limit of 1 V holds every sample of a 2.5 V
    # line out of range, one long episode, until the settings line that drops the limit.
    import sqlite3
    start = 1_732_170_000_000
    limited = json.dumps({"channels": {"board": {"max": 1}}})
    unlimited = json.dumps({"channels": {"board": {"name": "Bench supply"}}})
    lines = [f"# {start - 5} voltwatch recording device=board", f"# {start - 5} settings {limited}"]
    lines += [f"{start + i * 100}\t{frame(i).strip()}" for i in range(100)]
    lines.append(f"# {start + 9_950} settings {unlimited}")
    lines += [f"{start + i * 100}\t{frame(i).strip()}" for i in range(100, 200)]
    lines.append(f"# {start + 19_950} settings {limited}")
    lines += [f"{start + i * 100}\t{frame(i).strip()}" for i in range(200, 300)]
    trace = tmp_path / "reload.log"
    trace.write_text("\n".join(lines) + "\n")
    db = tmp_path / "history.sqlite"
    out = tmp_path / "out"
    run = subprocess.run([voltwatch, "replay", "--db", str(db), "--out-dir", str(out), str(trace)],
                         capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr.decode()
    results = [json.loads(line) for line in (out / "reload.jsonl").read_text().splitlines()]
    assert all("out_of_range" in r["kinds"] for r in results[:100] + results[200:])
    assert not any(r["is_anomaly"] for r in results[100:200])
    first, second = results[0]["episode"], results[200]["episode"]
    assert first != second
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT id, start_ms, end_ms, samples, open FROM episodes ORDER BY start_ms").fetchall()
    assert rows == [(first, start, start + 99 * 100, 100, 0), (second, start + 200 * 100, start + 299 * 100, 100, 0)], \
        "each ended at its last sample: the first by the reload, the second by the end of the replay"
