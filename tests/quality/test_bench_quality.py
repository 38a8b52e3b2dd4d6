"""Detection quality on the labelled voltage traces, with the shipped configuration.

Runs the real `voltwatch replay` over ../shared/bench/voltage/*.csv and scores the output
with ../shared/tools/score_events.py, asserting the targets of the core issue: recall at
least 0.95, at most 0.5 false alarms per hour, every kind found in at least 10 of its 12
events, median latency at most 1 s. A change to the scorer that costs quality fails here.
"""
import glob
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("VOLTWATCH_SHARED", os.path.join(ROOT, "..", "shared"))
BENCH = os.path.join(SHARED, "bench", "voltage")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from agentkit import voltwatch_binary  # noqa: E402


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    csvs = sorted(glob.glob(os.path.join(BENCH, "*.csv")))
    assert csvs, f"no labelled traces in {BENCH} (set VOLTWATCH_SHARED)"
    out = tmp_path_factory.mktemp("replay")
    run = subprocess.run(
        [voltwatch_binary(), "replay", "--config", os.path.join(ROOT, "config", "model_config.json"), "--out-dir", str(out), *csvs],
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    report = subprocess.run(
        [sys.executable, os.path.join(SHARED, "tools", "score_events.py"), os.path.join(BENCH, "labels.json"), str(out), "--json"],
        capture_output=True, text=True, timeout=300, check=True)
    return json.loads(report.stdout), run.stderr


def test_recall_is_at_least_095(scored):
    assert scored[0]["recall"] >= 0.95, scored[0]


def test_false_alarms_at_most_half_per_hour(scored):
    assert scored[0]["false_alarms_per_hour"] <= 0.5, scored[0]


def test_every_kind_found_in_10_of_12_events(scored):
    for kind, ratio in scored[0]["per_kind_recall"].items():
        found, total = map(int, ratio.split("/"))
        assert found >= 10 and total == 12, f"{kind}: {ratio}"


def test_median_latency_at_most_one_second(scored):
    assert scored[0]["median_latency_ms"] <= 1000, scored[0]


def test_summary_counts_every_sample(scored):
    # 754,991 rows in the set; the summary on stderr must account for all of them.
    assert "754991 samples" in scored[1], scored[1]
