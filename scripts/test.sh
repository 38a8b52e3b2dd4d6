#!/usr/bin/env bash
# Runs every voltwatch test on this machine, installing what the tests need first.
# The README's test command and CI's .ci/run are this script. Exits non-zero on any failure.
#
#   scripts/test.sh            everything
#   scripts/test.sh --swift    only the Swift test targets
#
# Environment: FUZZ_SECONDS (per fuzz target, default 10; 0 skips), PYTEST_WORKERS (end-to-end
# tests at once, default 4; 1 runs them one by one).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

export FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
PYTEST_WORKERS="${PYTEST_WORKERS:-4}"

# Each step says how long the run has taken so far, so a slow step shows in CI's log.
START=$SECONDS
step() { printf '\n=== [%d s] %s\n' "$((SECONDS - START))" "$*"; }
# A failing test step does not stop the run: the later ones (the simulated board, the fuzzing
# report) still run, so one CI run shows every failure. Setup and build failures stop it.
FAILED=()
failed() { echo "FAILED: $1" >&2; FAILED+=("$1"); }
FUZZ_PID=""
finish() {
  # A failing step must not leave the background fuzzing running.
  [ -z "$FUZZ_PID" ] || kill -- "-$FUZZ_PID" 2>/dev/null || true
  printf '\n=== [%d s] done\n' "$((SECONDS - START))"
}
trap finish EXIT

step "setup: Debian packages and the Python test clients (in .venv)"
bash scripts/setup.sh --test
PY="$ROOT/${VOLTWATCH_VENV:-.venv}/bin/python"

step "build (release, with the tests; the first build compiles the dependencies and takes minutes)"
# One build serves everything: the Swift tests (-enable-testing, for their @testable imports),
# the end-to-end tests and the Debian package, which are the release binary users install.
# (A debug build for the tests beside a static release build for the package was two full
# builds of every dependency: most of CI's 30 minutes.)
BUILD_FLAGS=(-c release -Xswiftc -enable-testing)
swift build "${BUILD_FLAGS[@]}" --build-tests 2>&1 | grep -v -e "found 1 file(s) which are unhandled" -e "CMakeLists.txt" \
  || { echo "build failed" >&2; exit 1; }

step "Swift tests"
swift test "${BUILD_FLAGS[@]}" --skip-build 2>&1 | grep -v "found 1 file(s) which are unhandled" || failed "Swift tests"
if [ "${1:-}" = "--swift" ]; then
  [ ${#FAILED[@]} -eq 0 ] || exit 1
  exit 0
fi

VOLTWATCH_BIN="$(swift build "${BUILD_FLAGS[@]}" --show-bin-path)/voltwatch"
export VOLTWATCH_BIN
"$VOLTWATCH_BIN" --version

step "Debian package (the release binary and the Swift runtime it loads)"
VOLTWATCH_DEB="$(bash scripts/package-deb.sh --binary "$VOLTWATCH_BIN" --out .build-deb)"
export VOLTWATCH_DEB

step "shipped configuration"
"$VOLTWATCH_BIN" check-config config/model_config.json >/dev/null

step "portability: C targets on glibc and musl, Glibc imports guarded"
bash scripts/portability.sh

# Ten seconds a target keeps the whole run under CI's 30 minutes; longer runs: docs/fuzzing.md.
# The fuzzers (and their instrumented build) run at the lowest CPU priority beside the
# end-to-end tests, which mostly wait: they get the cores the tests leave idle, and the tests
# lose nothing to them (the simulated board passed beside two such busy loops, 124 s against
# 119 s alone; beside two at normal priority it ran late and failed). Their report is printed
# at the end.
FUZZ_LOG="$ROOT/.build-fuzz/test-run.log"
if [ "$FUZZ_SECONDS" != 0 ]; then
  step "fuzzing: libFuzzer on the parsers, $FUZZ_SECONDS s per target, in the background (FUZZ_SECONDS=0 skips; docs/fuzzing.md)"
  mkdir -p "$(dirname "$FUZZ_LOG")"
  # setsid: a process group of its own, so a failing step can stop it and all it started.
  setsid nice -n 19 bash scripts/fuzz.sh > "$FUZZ_LOG" 2>&1 &
  FUZZ_PID=$!
fi

step "firmware build (Uno, Nano) and the simulated board"
bash scripts/build-firmware.sh --sim

# Most of these tests wait (for a 10 Hz stream, a broker, a browser), so four run at once; a
# file's tests stay together on one worker (module fixtures, the package's install and purge).
# The simulated board runs after them, without other tests: simavr keeps the sketch's 100 ms
# only while it has a core to itself, and late frames would be a different signal.
step "Python end-to-end tests (real clients, ptys, umockdev, detection quality), $PYTEST_WORKERS at a time"
if [ "$PYTEST_WORKERS" -gt 1 ]; then parallel=(-n "$PYTEST_WORKERS" --dist loadfile); else parallel=(); fi
"$PY" -m pytest -q -p no:cacheprovider "${parallel[@]}" tests --ignore=tests/firmware || failed "end-to-end tests"

step "Python end-to-end tests: the firmware on the simulated board (simavr)"
"$PY" -m pytest -q -p no:cacheprovider tests/firmware || failed "simulated board tests"

if [ -n "$FUZZ_PID" ]; then
  step "fuzzing: the background run's report"
  fuzz_status=0
  wait "$FUZZ_PID" || fuzz_status=$?
  FUZZ_PID=""
  cat "$FUZZ_LOG"
  [ "$fuzz_status" -eq 0 ] || failed "fuzzing (status $fuzz_status; the report is above)"
fi

if [ ${#FAILED[@]} -gt 0 ]; then
  step "failed: ${#FAILED[@]} step(s)"
  printf '  %s\n' "${FAILED[@]}" >&2
  exit 1
fi
step "all tests passed"
