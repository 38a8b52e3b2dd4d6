#!/usr/bin/env bash
# Quick start: installs what voltwatch needs, builds it (release), and runs the agent on
# port 5000. With an Arduino (or a CH340/FTDI/CP210x board) plugged in, the agent reads it;
# with none, it plays a fake Arduino (scenario "mixed") so there is something to see at once.
#
#   scripts/run.sh                 extra arguments go to `voltwatch run`, e.g. --port 8080
#   VOLTWATCH_FAKE=spikes scripts/run.sh    choose the fake scenario
set -euo pipefail
cd "$(dirname "$0")/.."

# Only what running needs: the tests' toolchain (chromium, simavr, ...) is scripts/test.sh's.
bash scripts/setup.sh --runtime
echo "run: building voltwatch (release; the first build compiles the dependencies and takes several minutes)" >&2
swift build -c release --product voltwatch 2>&1 | grep -v -e "found 1 file(s) which are unhandled" -e "CMakeLists.txt" >&2
BIN="$(swift build -c release --show-bin-path)/voltwatch"

# Does discovery see a board? `devices --json` prints a JSON array; "picked" marks usable ones.
if "$BIN" devices --json 2>/dev/null | grep -q '"picked" *: *true'; then
  echo "run: board found; open http://localhost:5000/ (Ctrl-C stops)" >&2
  exec "$BIN" run "$@"
fi
scenario="${VOLTWATCH_FAKE:-mixed}"
echo "run: no board found; playing a fake Arduino (scenario $scenario). Open http://localhost:5000/ (Ctrl-C stops)" >&2
echo "run: this demo is open to anyone on your network (no token); to require one: scripts/run.sh --token-file FILE" >&2
exec "$BIN" run --fake "$scenario" "$@"
