#!/usr/bin/env bash
# Runs every voltwatch test on this machine, installing what the tests need first.
# The README's test command and CI's .ci/run are this script. Exits non-zero on any failure.
#
#   scripts/test.sh            everything
#   scripts/test.sh --swift    only the Swift test targets
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# Each step says how long the run has taken so far, so a slow step shows in CI's log.
START=$SECONDS
step() { printf '\n=== [%d s] %s\n' "$((SECONDS - START))" "$*"; }
trap 'printf "\n=== [%d s] done\n" "$((SECONDS - START))"' EXIT

step "setup: Debian packages and the Python test clients (in .venv)"
bash scripts/setup.sh --test
PY="$ROOT/${VOLTWATCH_VENV:-.venv}/bin/python"

step "build (debug, with the tests; the first build compiles the dependencies and takes a few minutes)"
# The Swift tests need a build with the test targets; the toolchain has no static Testing library,
# so they cannot share the static release build the package needs. `swift test` does not build again.
swift build --build-tests 2>&1 | grep -v -e "found 1 file(s) which are unhandled" -e "CMakeLists.txt" \
  || { echo "build failed" >&2; exit 1; }

step "Swift tests"
swift test --skip-build 2>&1 | grep -v "found 1 file(s) which are unhandled"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "swift test failed" >&2; exit 1; }
[ "${1:-}" = "--swift" ] && exit 0

step "Debian package (a release build with the Swift runtime linked in: minutes the first time)"
VOLTWATCH_DEB="$(bash scripts/package-deb.sh --out .build-deb)"
export VOLTWATCH_DEB
# The end-to-end tests run the release build the package was made from (package-deb.sh builds it
# in .build-deb; the package holds it stripped): what users install, and faster than the debug
# build (the detection-quality gate replays 24 series).
export VOLTWATCH_BIN="$ROOT/.build-deb/release/voltwatch"
"$VOLTWATCH_BIN" --version

step "shipped configuration"
"$VOLTWATCH_BIN" check-config config/model_config.json >/dev/null

step "portability: C targets on glibc and musl, Glibc imports guarded"
bash scripts/portability.sh

# Ten seconds a target keeps the whole run under CI's 30 minutes; longer runs: docs/fuzzing.md.
step "fuzzing: libFuzzer on the parsers, ${FUZZ_SECONDS:-10} s per target (FUZZ_SECONDS=0 skips; docs/fuzzing.md)"
[ "${FUZZ_SECONDS:-10}" = 0 ] || FUZZ_SECONDS="${FUZZ_SECONDS:-10}" bash scripts/fuzz.sh

step "firmware build (Uno, Nano) and the simulated board"
bash scripts/build-firmware.sh --sim

step "Python end-to-end tests (real clients, ptys, umockdev, simavr, detection quality)"
"$PY" -m pytest -q -p no:cacheprovider tests
