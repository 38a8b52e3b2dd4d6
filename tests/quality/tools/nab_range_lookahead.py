#!/usr/bin/env python3
"""What NAB's published scores owe to seeing each file's range before its first sample.

    nab_range_lookahead.py NAB_CLONE DATA_DIR WINDOWS_JSON [--range file|probation|so-far]
                           [--out DIR] [--jobs 2]

NAB's runner hands every detector the minimum and maximum of the whole file before the first
sample (`nab/detectors/base.py`: `self.inputMin = self.dataSet.data["value"].min()`), and the
file's length (the probationary period, 15 % of it). HTM sizes its encoder from that range,
CAD OSE its eight value bins and its rest period after an alarm, ARTime its normalisation. A
live gateway has neither: it knows what the signal has done so far. voltwatch's scores on the
NAB sets are measured as a live stream (`nab_eval.py`); the published ones are not.

This runs NAB's own CAD OSE (`nab/detectors/context_ose`, read from NAB_CLONE, MIT) on DATA_DIR
in one of three ways and scores the result with nab_score.py (standard profile, swept
threshold), so the worth of the look-ahead is measured on a published detector:

  file       the range of the whole file, as NAB runs it (reproduces the published score)
  probation  the range of the file's first 15 % (the probationary period, which is not
             scored: what a live detector knows when scoring starts), fixed from there on
  so-far     the range of the samples seen so far, widening as the signal does

The rest period (15 % of the file's length ÷ 5, at most 150 samples) is NAB's in all three.
Pure Python: on two cores the dev set takes about a minute, the held-out set (the 34 files of
real{AWSCloudwatch,Traffic,Tweets}, unpacked with `git -C NAB archive HEAD data/realTweets ...
| tar x`) about five. docs/detection.md gives what it measured.
"""
import argparse
import csv
import math
import os
import subprocess
import sys
import tempfile
from multiprocessing import Pool

HERE = os.path.dirname(os.path.abspath(__file__))


def load_cad(nab, into):
    """Writes NAB's CAD OSE sources from the clone (work tree or bare) into `into`."""
    for name in ("cad_ose.py", "context_operator.py"):
        text = subprocess.run(
            ["git", "-C", nab, "show", f"HEAD:nab/detectors/context_ose/{name}"],
            check=True, capture_output=True, text=True).stdout
        text = text.replace("from nab.detectors.context_ose.context_operator import",
                            "from context_operator import")
        with open(os.path.join(into, name), "w") as f:
            f.write(text)
    sys.path.insert(0, into)


def detector(mode, values, rest):
    from cad_ose import ContextualAnomalyDetectorOSE

    class RangeSoFar(ContextualAnomalyDetectorOSE):
        """CAD OSE whose bins come from the range of the samples seen so far."""

        def getAnomalyScore(self, inputData):
            v = inputData["value"]
            self.minValue = min(self.minValue, v)
            self.maxValue = max(self.maxValue, v)
            self.fullValueRange = self.maxValue - self.minValue or self.maxBinValue
            self.minValueStep = self.fullValueRange / self.maxBinValue
            return super().getAnomalyScore(inputData)

    if mode == "file":
        return ContextualAnomalyDetectorOSE(min(values), max(values), restPeriod=rest)
    if mode == "probation":
        head = values[:max(1, int(probation(len(values))))]
        return ContextualAnomalyDetectorOSE(min(head), max(head), restPeriod=rest)
    return RangeSoFar(values[0], values[0], restPeriod=rest)


def probation(rows):
    """NAB's probationary period (`nab/util.py` getProbationPeriod)."""
    return min(math.floor(0.15 * rows), 0.15 * 5000)


def run(job):
    mode, data, out, rel = job
    with open(os.path.join(data, rel)) as f:
        rows = list(csv.DictReader(f))
    values = [float(r["value"]) for r in rows]
    cad = detector(mode, values, probation(len(rows)) / 5.0)
    path = os.path.join(out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("timestamp,anomaly_score\n")
        for r, v in zip(rows, values):
            f.write("%s,%r\n" % (r["timestamp"], cad.getAnomalyScore({"value": v})))
    return rel


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("nab", help="a clone of github.com/numenta/NAB (work tree or bare)")
    ap.add_argument("data")
    ap.add_argument("windows")
    ap.add_argument("--range", choices=["file", "probation", "so-far"], default="file")
    ap.add_argument("--out")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    src = tempfile.mkdtemp(prefix="cad-ose-")
    load_cad(a.nab, src)
    out = a.out or tempfile.mkdtemp(prefix="cad-ose-out-")
    files = sorted(os.path.relpath(os.path.join(d, f), a.data)
                   for d, _, fs in os.walk(a.data) for f in fs if f.endswith(".csv"))
    with Pool(a.jobs) as pool:
        for _ in pool.imap_unordered(run, [(a.range, a.data, out, rel) for rel in files]):
            pass
    scored = subprocess.run([sys.executable, os.path.join(HERE, "nab_score.py"),
                             "--windows", a.windows, out], capture_output=True, text=True)
    lines = [l for l in scored.stdout.splitlines() if "standard" in l]
    print(f"CAD OSE, range from {a.range}: " + (lines[0].strip() if lines else scored.stderr))
    return scored.returncode


if __name__ == "__main__":
    sys.exit(main())
