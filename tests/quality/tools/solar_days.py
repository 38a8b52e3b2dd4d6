#!/usr/bin/env python3
"""Days of a solar panel (or the battery it charges) at 10 Hz, and how often voltwatch alarms on them.

    solar_days.py OUT.csv [--days 4] [--seed 1] [--kind panel|battery]
    solar_days.py --episodes RESULTS.jsonl [...]

The labelled voltage traces are shorter than a day, so they never show what a user with a
panel sees first: a daily cycle (dark at night, a curve over the day) and weather (passing
clouds that take a share of the light for twenty seconds to ten minutes, with edges of a few
seconds; clear, broken and overcast days). None of it is a fault, so every alarm on these
days is a false one. The first form writes such a recording (timestamp_ms,voltage, through a
divider on a 10-bit 5 V ADC, deterministic for a seed); the second counts the alarm episodes
per day and per kind in `voltwatch replay` output. docs/detection.md gives what it measured.

- panel: the panel's voltage under a resistive load, 4.2 V in full sun (it follows the light).
- battery: a 12 V lead-acid battery charged by the panel, through a 1/3 divider: 4.13 V at
  rest, rising with the light to the charger's 4.67 V plateau.
"""
import argparse
import collections
import json
import math
import random
import sys

STEP = 5.0 / 1023
START_MS = 1_700_006_400_000  # 2023-11-15 00:00 UTC: hour h of day d is d·86400 + h·3600 s in


def generate(path, days=4, seed=1, kind="panel"):
    rng = random.Random(seed)
    weather = [rng.choice(["clear", "broken", "overcast", "broken"]) for _ in range(days)]
    cloud, target, change_at, wander = 1.0, 1.0, 0, 0.0
    with open(path, "w") as f:
        f.write("timestamp_ms,voltage\n")
        for i in range(days * 864_000):
            t = i / 10.0
            hour = (t % 86_400) / 3_600
            sun = math.sin(math.pi * (hour - 6.5) / 12.0) if 6.5 < hour < 18.5 else 0.0
            if i >= change_at:  # the sky changes every 20 s to 10 min
                sky = weather[int(t // 86_400)]
                if sky == "clear":
                    target = 1.0 if rng.random() < 0.9 else rng.uniform(0.6, 0.95)
                elif sky == "broken":
                    target = rng.choice([1.0, 1.0, rng.uniform(0.25, 0.7)])
                else:
                    target = rng.uniform(0.25, 0.5)
                change_at = i + int(rng.uniform(200, 6_000))
            cloud += (target - cloud) * 0.02  # edges of about five seconds
            wander += rng.gauss(0, 0.0005) - wander * 0.0001
            if kind == "panel":
                v = 4.2 * sun ** 0.6 * cloud * (1 + wander)
            else:
                v = (12.4 + 1.6 * min(1.0, 3 * sun * cloud) + 0.05 * wander) / 3
            v = min(5.0, max(0.0, round((v + rng.gauss(0, 0.004)) / STEP) * STEP))
            f.write("%d,%.4f\n" % (START_MS + i * 100, v))
    return weather


def episodes(path):
    """Alarm episodes in a replay's JSON lines: {id: (day, hour, kinds, first reason)}."""
    found = {}
    start = None
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            start = r["timestamp"] if start is None else start
            if not r["is_anomaly"]:
                continue
            e = found.setdefault(r["episode"], [int((r["timestamp"] - start) // 86_400),
                                                (r["timestamp"] % 86_400) / 3_600, set(), r["reasons"][0]])
            e[2].update(r["kinds"])
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?")
    ap.add_argument("--days", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kind", choices=["panel", "battery"], default="panel")
    ap.add_argument("--episodes", nargs="+", metavar="RESULTS")
    a = ap.parse_args()
    if a.episodes:
        for path in a.episodes:
            found = episodes(path)
            per_day = collections.Counter(e[0] for e in found.values())
            kinds = collections.Counter(k for e in found.values() for k in e[2])
            print(f"{path}: {len(found)} alarm episodes; per day {dict(sorted(per_day.items()))}; "
                  f"by kind {dict(kinds.most_common())}")
        return 0
    if not a.out:
        ap.error("give OUT.csv, or --episodes RESULTS.jsonl")
    weather = generate(a.out, a.days, a.seed, a.kind)
    print(f"{a.out}: {a.days} days of a {a.kind} at 10 Hz, weather {', '.join(weather)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
