#!/usr/bin/env python3
"""Prototype, not shipped: a nearest-neighbour ("discord") detector beside voltwatch's scorer.

    discord_prototype.py SCORED_DIR OUT_DIR DATA_DIR [--m 12] [--history 2000]
    nab_score.py OUT_DIR --windows WINDOWS_JSON --profile standard

SCORED_DIR is `nab_eval.py --out` (category/file.csv: timestamp,anomaly_score). For every sample
of DATA_DIR/category/file.csv: the distance of the last m values to the nearest earlier run of
m values (within `history`), in units of the series' usual step (median |Δ| of the last 2,000
samples); judged for rarity against its own running distribution (half-octave bins, forgetting
over 3,000 samples, a quiet past of 3 × 10^3 samples assumed, as Rarity does); certain when the
surprise reaches 3 decades and the distance 8 usual steps. Its score (1 − 0.3/c², as the
scorer's) is combined with the scorer's by taking the larger, and written to OUT_DIR.
docs/detection.md gives what it measured (neutral on both NAB sets). Needs numpy.
"""
import argparse
import csv
import math
import os

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

DECADES = 3.0


def surprises(values):
    """−log10 of each value's tail probability against the values before it."""
    bins = np.zeros(64)
    total, weight, growth = 0.0, 1.0, 1 / (1 - 1 / 3000.0)
    assumed = 3 * 10 ** DECADES
    out = np.zeros(len(values))
    for i, v in enumerate(values):
        if v > 0 and np.isfinite(v):
            b = int(min(63, max(0, math.floor(2 * (math.log2(v) + 16)))))
            out[i] = -math.log10((bins[b:].sum() / weight + 0.1) / max(total / weight + 1, assumed))
            bins[b] += weight
        total += weight
        weight *= growth
        if weight > 1e100:
            bins /= weight
            total /= weight
            weight = 1.0
    return out


def discords(x, m, history):
    steps = np.abs(np.diff(x, prepend=x[0]))
    out = np.zeros(len(x))
    for t in range(2 * m, len(x)):
        usual = np.median(steps[max(1, t - 2000):t]) or np.mean(steps[max(1, t - 2000):t]) or 1e-9
        lo, hi = max(0, t - m - history), t - m
        if hi - lo < m:
            continue
        past = sliding_window_view(x[lo:hi + 1], m)
        out[t] = np.sqrt(((past - x[t - m + 1:t + 1]) ** 2).mean(axis=1)).min() / usual
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scored")
    ap.add_argument("out")
    ap.add_argument("data")
    ap.add_argument("--m", type=int, default=12)
    ap.add_argument("--history", type=int, default=2000)
    a = ap.parse_args()
    for cat in sorted(os.listdir(a.scored)):
        folder = os.path.join(a.scored, cat)
        if not os.path.isdir(folder):
            continue
        os.makedirs(os.path.join(a.out, cat), exist_ok=True)
        for name in sorted(os.listdir(folder)):
            rows = list(csv.reader(open(os.path.join(folder, name))))[1:]
            ours = np.array([float(r[1]) for r in rows])
            x = np.array([float(r[1]) for r in list(csv.reader(open(os.path.join(a.data, cat, name))))[1:]])
            d = discords(x, a.m, a.history)
            certain = (surprises(d) >= DECADES) & (d >= 8)
            theirs = np.where(certain, 1 - 0.3 / np.maximum(d / 8, 1e-9) ** 2, 0)
            with open(os.path.join(a.out, cat, name), "w") as f:
                f.write("timestamp,anomaly_score\n")
                for r, v in zip(rows, np.maximum(ours, theirs)):
                    f.write(f"{r[0]},{float(v)!r}\n")


if __name__ == "__main__":
    main()
