#!/usr/bin/env bash
# The NAB series the scorer was never tuned on: the 34 files of NAB's realAWSCloudwatch,
# realTraffic and realTweets (77 windows), scored with the same harness as the dev set.
# A check, not a target to tune on (docs/detection.md, "On series the tuning never saw").
#
#   tests/quality/tools/nab_holdout.sh NAB VOLTWATCH_BIN [nab_eval.py options]
#
# NAB: a clone of github.com/numenta/NAB (a work tree, or a bare git directory: its HEAD is read).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 NAB_CLONE VOLTWATCH_BIN [--out DIR] [--config FILE]" >&2
  exit 2
fi
nab="$1"; bin="$2"; shift 2
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
files=$(git -C "$nab" ls-tree -r --name-only HEAD data labels/combined_windows.json \
  | grep -E '^data/real(AWSCloudwatch|Traffic|Tweets)/.*\.csv$|^labels/combined_windows\.json$' || true)
[ -n "$files" ] || { echo "$nab: no NAB data found (expected data/realTweets/*.csv at HEAD)" >&2; exit 1; }
for f in $files; do
  mkdir -p "$work/$(dirname "$f")"
  git -C "$nab" show "HEAD:$f" > "$work/$f"
done
python3 "$here/nab_eval.py" "$bin" "$work/data" "$work/labels/combined_windows.json" "$@" 2>&1 \
  | grep -v "have no output and are not scored"
