#!/usr/bin/env python3
"""The labelled voltage traces with a new noise realisation, for figures that do not hang on
one recording's luck.

    voltage_dither.py TRACES OUT --seed N

TRACES holds the labelled traces (timestamp_ms,voltage CSV files and labels.json); OUT gets
a copy of each in which every reading moves by Gaussian noise of half an ADC count (10-bit,
5 V) and is quantised again: the same events at the same times, the noise between them drawn
anew. Readings inside a labelled `stuck` event are kept as they are (a stuck value that
wanders is not stuck), as are empty readings. labels.json is copied unchanged, so OUT scores
with the same labels:

    voltwatch replay --fast --config config/model_config.json --out-dir R OUT/*.csv
    python3 tests/quality/tools/score_events.py OUT/labels.json R

Deterministic for a seed. docs/detection.md ("How solid the median latency is") gives what
fifteen seeds measured; tests/quality/test_bench_quality.py checks the targets on three.
"""
import argparse
import json
import os
import random
import shutil
import sys

STEP = 5.0 / 1023


def dither(src, dst, rng, keep):
    with open(src) as f, open(dst, "w") as out:
        out.write(f.readline())
        for line in f:
            stamp, _, value = line.rstrip("\n").partition(",")
            if value == "" or any(a <= int(stamp) <= b for a, b in keep):
                out.write(line)
                continue
            x = float(value) + rng.gauss(0, 0.5 * STEP)
            out.write("%s,%.4f\n" % (stamp, round(x / STEP) * STEP))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("traces")
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    labels_path = os.path.join(a.traces, "labels.json")
    try:
        labels = json.load(open(labels_path))
    except (OSError, ValueError) as e:
        sys.exit(f"{labels_path}: {e}")
    os.makedirs(a.out, exist_ok=True)
    for position, name in enumerate(sorted(labels)):
        src = os.path.join(a.traces, name)
        if not os.path.exists(src):
            sys.exit(f"{src}: named in labels.json but missing")
        # One generator per trace, seeded by the seed and the trace's position among the
        # labelled ones.
        rng = random.Random(a.seed * 1_000_003 + position)
        # The stuck value is held from its start to its end (a little margin for sample jitter).
        keep = [(e["start_ms"] - 200, e["end_ms"] + 200) for e in labels[name] if e["kind"] == "stuck"]
        dither(src, os.path.join(a.out, name), rng, keep)
    shutil.copy(labels_path, os.path.join(a.out, "labels.json"))


if __name__ == "__main__":
    main()
