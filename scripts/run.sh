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
# (grep finding nothing to print is no failure; a failed build still stops here, by pipefail.)
swift build -c release --product voltwatch 2>&1 | { grep -v -e "found 1 file(s) which are unhandled" -e "CMakeLists.txt" || true; } >&2
BIN="$(swift build -c release --show-bin-path)/voltwatch"

# The address to open: the port given to `run` (--port N or --port=N), else 5000.
port=5000
prev=""
for arg in "$@"; do
  case "$arg" in --port=*) port="${arg#--port=}" ;; esac
  [ "$prev" = "--port" ] && port="$arg"
  prev="$arg"
done

# Does discovery see a board? `devices --json` prints a JSON array; "picked" marks usable ones.
if "$BIN" devices --json 2>/dev/null | grep -q '"picked" *: *true'; then
  echo "run: board found; open http://localhost:$port/ (Ctrl-C stops)" >&2
  exec "$BIN" run "$@"
fi
scenario="${VOLTWATCH_FAKE:-mixed}"
echo "run: no board found; playing a fake Arduino (scenario $scenario). Open http://localhost:$port/ (Ctrl-C stops)" >&2
echo "run: this demo is open to anyone on your network (no token); to require one: scripts/run.sh --token-file FILE" >&2
exec "$BIN" run --fake "$scenario" "$@"
