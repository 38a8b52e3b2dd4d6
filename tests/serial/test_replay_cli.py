"""`voltwatch replay` on files that hold nothing to score: the engineer who points it at the
wrong file is told so and gets exit status 65, and the good files beside it are still scored."""
import json
import subprocess


def replay(voltwatch, *files, out_dir=None):
    args = [voltwatch, "replay", *(["--out-dir", str(out_dir)] if out_dir else []), *map(str, files)]
    return subprocess.run(args, capture_output=True, timeout=60)


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
