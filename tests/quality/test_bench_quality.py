"""Detection quality with the shipped configuration, on both labelled sets in the repository.

Everything the gate needs is in tests/quality: the data (gzip-compressed) under data/ and the
scoring tools under tools/ (copies of the project's shared tools), so it runs on a clone with
nothing beside it. The data is decompressed to a temporary directory first.

- Voltage traces (data/voltage, 15 traces, 96 labelled events): the real `voltwatch replay`,
  scored event by event with tools/score_events.py.
- NAB dev set (data/nab-dev: 24 series of the Numenta Anomaly Benchmark, MIT licence, see its
  LICENSE.txt): tools/nab_eval.py replays each series with the shipped configuration (only
  `sample_rate` set per file) and scores it with NAB's standard profile.

The thresholds sit slightly below the figures measured when they were set (docs/detection.md
lists both), so a change to the scorer that costs quality fails here.
"""
import glob
import gzip
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(HERE, "data")
TOOLS = os.path.join(HERE, "tools")
CONFIG = os.path.join(ROOT, "config", "model_config.json")
sys.path.insert(0, os.path.dirname(HERE))
from agentkit import voltwatch_binary  # noqa: E402


def unpack(src, dst):
    """Copies the tree src to dst, decompressing every .gz."""
    for dirpath, _, files in os.walk(src):
        out = os.path.join(dst, os.path.relpath(dirpath, src))
        os.makedirs(out, exist_ok=True)
        for name in files:
            path = os.path.join(dirpath, name)
            if name.endswith(".gz"):
                with gzip.open(path, "rb") as f, open(os.path.join(out, name[:-3]), "wb") as g:
                    shutil.copyfileobj(f, g)
            else:
                shutil.copy(path, os.path.join(out, name))


def replay(csvs, out):
    run = subprocess.run([voltwatch_binary(), "replay", "--config", CONFIG, "--out-dir", str(out), *csvs],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return run


def replay_and_score(csvs, labels, out):
    """Replays the traces into `out` and scores them event by event; returns the report and
    the replay's run."""
    run = replay(csvs, out)
    report = subprocess.run(
        [sys.executable, os.path.join(TOOLS, "score_events.py"), str(labels), str(out), "--json"],
        capture_output=True, text=True, timeout=300, check=True)
    return json.loads(report.stdout), run


@pytest.fixture(scope="module")
def voltage(tmp_path_factory):
    data = tmp_path_factory.mktemp("voltage-data")
    unpack(os.path.join(DATA, "voltage"), str(data))
    csvs = sorted(glob.glob(os.path.join(str(data), "*.csv")))
    assert len(csvs) == 15, csvs
    out = tmp_path_factory.mktemp("voltage-replay")
    report, run = replay_and_score(csvs, os.path.join(str(data), "labels.json"), out)
    return report, run.stderr, csvs, out


@pytest.fixture(scope="module")
def nab(tmp_path_factory):
    data = tmp_path_factory.mktemp("nab-data")
    unpack(os.path.join(DATA, "nab-dev"), str(data))
    out = tmp_path_factory.mktemp("nab-out")
    result = os.path.join(str(out), "score.json")
    run = subprocess.run(
        [sys.executable, os.path.join(TOOLS, "nab_eval.py"), voltwatch_binary(), os.path.join(str(data), "data"),
         os.path.join(str(data), "combined_windows.json"), "--config", CONFIG, "--out", str(out), "--json", result],
        capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    with open(result) as f:
        return json.load(f)["profiles"][0]


def test_voltage_recall_is_at_least_097(voltage):
    assert voltage[0]["recall"] >= 0.97, voltage[0]


def test_voltage_false_alarms_at_most_01_per_hour(voltage):
    assert voltage[0]["false_alarms_per_hour"] <= 0.1, voltage[0]


def test_voltage_every_kind_found_in_10_of_12_events(voltage):
    for kind, ratio in voltage[0]["per_kind_recall"].items():
        found, total = map(int, ratio.split("/"))
        assert found >= 10 and total == 12, f"{kind}: {ratio}"


def test_voltage_median_latency_at_most_half_a_second(voltage):
    assert voltage[0]["median_latency_ms"] <= 500, voltage[0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_voltage_targets_hold_on_a_new_noise_realisation(voltage, tmp_path, seed):
    # The same events at the same times with the noise between them drawn anew
    # (tools/voltage_dither.py): figures that hold only for one recording's noise fail here.
    # The median latency sits between two groups of latencies (docs/detection.md, "How solid
    # the median latency is"); with a two-second noise window seed 3 gave 598 ms.
    data = os.path.dirname(voltage[2][0])
    dithered = tmp_path / "traces"
    subprocess.run([sys.executable, os.path.join(TOOLS, "voltage_dither.py"), data, str(dithered), "--seed", str(seed)],
                   check=True, timeout=300)
    report, _ = replay_and_score(sorted(glob.glob(str(dithered / "*.csv"))), dithered / "labels.json", tmp_path / "out")
    assert report["recall"] >= 0.97, report
    assert report["false_alarms_per_hour"] <= 0.1, report
    assert report["median_latency_ms"] <= 500, report


def test_voltage_summary_counts_every_sample(voltage):
    # 754,991 rows in the set; the summary on stderr must account for all of them.
    assert "754991 samples" in voltage[1], voltage[1]


def test_voltage_alarms_are_the_same_in_another_unit_and_offset(voltage, tmp_path):
    # Scale-free by default: the same traces as a calibrated channel would read them (4.8 × the
    # volts + 10, a 12 V battery behind a divider, on another zero) raise the same alarms, of
    # the same kinds, on every one of the 754,991 rows. Nothing hinges on absolute volts.
    _, _, csvs, out = voltage
    scaled = []
    for path in csvs:
        target = tmp_path / os.path.basename(path)
        with open(path) as src, open(target, "w") as dst:
            dst.write(src.readline())
            for line in src:
                stamp, volts = line.strip().split(",")
                dst.write(f"{stamp},{float(volts) * 4.8 + 10:.6f}\n")
        scaled.append(str(target))
    scaled_out = tmp_path / "out"
    replay(scaled, scaled_out)
    rows = alarms = 0
    for path in csvs:
        name = os.path.basename(path)[:-4] + ".jsonl"
        with open(os.path.join(str(out), name)) as a, open(scaled_out / name) as b:
            for n, (x, y) in enumerate(zip(a, b, strict=True)):
                x, y = json.loads(x), json.loads(y)
                assert (x["is_anomaly"], x["kinds"]) == (y["is_anomaly"], y["kinds"]), f"{name} row {n}: {x} / {y}"
                rows += 1
                alarms += x["is_anomaly"]
    assert rows == 754991 and alarms > 10000, (rows, alarms)


def test_nab_dev_standard_score(nab):
    # The target: 70, above every published detector on these files (windowed
    # Gaussian 28.2, Skyline 42.6, KNN-CAD 53.5, CAD OSE 57.5, HTM 64.9, ARTime 68.8).
    # Measured 71.6 when raised (35/39 windows, 60 FP rows), after a broken rhythm became news
    # when deeper than before as a share of the level and a rhythm found was kept through
    # scattered weeks; 64.7 before them, 62.4 with records, 52.8 with the daily and weekly
    # rhythm alone, 41.5 before the rhythm, 0 before the scorer learnt rarity and scale.
    assert nab["score"] >= 70.0, {k: nab[k] for k in ("score", "threshold", "detected", "windows", "fp_rows")}


def test_nab_dev_artificial_series_without_anomalies_are_quiet(nab):
    # Daily cycles, a square wave, a flat line and plain noise, about 20,000 scored rows: their
    # own rhythm is normal. At the swept threshold the square wave, the flat line and the
    # noise raise nothing, and all five together at most a few rows (5 when set).
    quiet = {p["file"]: p["fp_rows"] for p in nab["per_file"] if p["file"].startswith("artificialNoAnomaly/")}
    assert len(quiet) == 5, quiet
    for name in ("art_daily_perfect_square_wave", "art_flatline", "art_noisy"):
        assert quiet[f"artificialNoAnomaly/{name}.csv"] == 0, quiet
    assert sum(quiet.values()) <= 10, quiet


@pytest.fixture(scope="module")
def solar_days(tmp_path_factory):
    # Four simulated days at 10 Hz of a panel (broken, clear, overcast, clear) and of the
    # battery it charges (three clear days, then overcast): a daily cycle and weather, no
    # fault, so every alarm episode is a false one (tools/solar_days.py).
    sys.path.insert(0, TOOLS)
    import solar_days as tool
    data = tmp_path_factory.mktemp("solar-data")
    panel, battery = str(data / "panel.csv"), str(data / "battery.csv")
    assert tool.generate(panel, days=4, seed=1, kind="panel") == ["broken", "clear", "overcast", "clear"]
    assert tool.generate(battery, days=4, seed=2, kind="battery") == ["clear", "clear", "clear", "overcast"]
    out = tmp_path_factory.mktemp("solar-replay")
    replay([panel, battery], out)
    return {name: tool.episodes(str(out / f"{name}.jsonl")) for name in ("panel", "battery")}


def test_a_solar_panels_clouds_are_not_faults(solar_days):
    # Measured 30 episodes in four days (21 on the first, broken day: nothing is a habit yet;
    # 5 on the clear day, 4 on the overcast one, none on the last, no noise and no drift at
    # dawn or dusk from the third day on); 44 (35 on the first day) before an edge had to be
    # rare as a share of the level too, 426 before rarity needed fewer than three in the
    # history, the rhythm's scale the days' spread, drift a change slower than a few seconds, a
    # recurring departure from the rhythm counted as one, drift the daily climb, noise a
    # variation that is not a slope, an alarm the last four days held 32 times a habit, and a
    # broken rhythm told again within a day only when twice as far (docs/detection.md).
    panel = solar_days["panel"]
    per_day = [sum(1 for e in panel.values() if e[0] == d) for d in range(4)]
    assert len(panel) <= 38 and per_day[0] <= 26 and per_day[3] <= 3, per_day
    noise = [e for e in panel.values() if "noise" in e[2]]
    assert not noise, f"{len(noise)} noise episodes on cloud edges, first: {noise[0]}"


def test_a_battery_charged_by_the_sun_is_quiet_on_clear_days(solar_days):
    # Measured 0, 0 and 1 episodes on the three clear days and 14 on the overcast one, where
    # the battery never reaches its charging plateau (2 `pattern`: a real departure from the
    # rhythm, told again that day only when twice as far); 56 in all before.
    battery = solar_days["battery"]
    per_day = [sum(1 for e in battery.values() if e[0] == d) for d in range(4)]
    assert sum(per_day[:3]) <= 4 and len(battery) <= 20, per_day
