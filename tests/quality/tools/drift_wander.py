#!/usr/bin/env python3
"""How far a labelled drift stands out from the trace's own wander.

    python3 tests/quality/tools/drift_wander.py tests/quality/data/voltage [SECONDS ...]

For every trace with a `drift` event in labels.json: the largest change of a straight line
fitted over a sliding window (SECONDS long, default 60 and 180; evaluated every second) while
the window overlaps the drift, against the largest such change anywhere else in the trace (away
from every labelled event). A ratio near 1 means the trace wanders that far on its own, so no
detector that stays quiet on the trace's ordinary wander can flag that drift. Standard library
only; reads .csv and .csv.gz.
"""
import csv
import gzip
import json
import os
import sys


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        rows = list(csv.reader(f))[1:]
    return [int(r[0]) for r in rows], [float(r[1]) for r in rows]


def changes(t, y, n, every):
    """(time of the window's last sample, fitted change over the window), every `every` samples."""
    xs = range(n)
    mean_x = (n - 1) / 2
    sxx = sum((x - mean_x) ** 2 for x in xs)
    out = []
    for end in range(n, len(y) + 1, every):
        seg = y[end - n:end]
        mean_y = sum(seg) / n
        slope = sum((x - mean_x) * (v - mean_y) for x, v in zip(xs, seg)) / sxx
        out.append((t[end - 1], slope * (n - 1)))
    return out


def main():
    folder = sys.argv[1]
    horizons = [float(s) for s in sys.argv[2:]] or [60.0, 180.0]
    labels = json.load(open(os.path.join(folder, "labels.json")))
    print(f"{'trace':24} {'window':>7} {'drift':>8} {'elsewhere':>10} {'ratio':>7}")
    for name in sorted(labels):
        events = labels[name]
        drifts = [e for e in events if e["kind"] == "drift"]
        if not drifts:
            continue
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            path += ".gz"
        t, y = load(path)
        period_ms = (t[-1] - t[0]) / max(1, len(t) - 1)
        for seconds in horizons:
            n = max(10, round(seconds * 1000 / period_ms))
            span_ms = n * period_ms
            fitted = changes(t, y, n, max(1, round(1000 / period_ms)))
            during = [abs(c) for end, c in fitted
                      if any(end >= e["start_ms"] and end - span_ms <= e["end_ms"] for e in drifts)]
            quiet = [abs(c) for end, c in fitted
                     if not any(end >= e["start_ms"] - 1000 and end - span_ms <= e["end_ms"] + 60_000 for e in events)]
            if not during or not quiet:
                continue
            ratio = max(during) / max(max(quiet), 1e-12)
            print(f"{name:24} {seconds:6.0f}s {max(during):8.3f} {max(quiet):10.3f} {ratio:7.1f}")


if __name__ == "__main__":
    main()
