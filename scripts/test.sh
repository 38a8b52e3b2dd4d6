#!/usr/bin/env bash
# Runs every voltwatch test on this machine, installing what the tests need first.
# The README's test command and CI's .ci/run are this script. Exits non-zero on any failure.
#
#   scripts/test.sh            everything
#   scripts/test.sh --swift    only the Swift test targets
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

step() { printf '\n=== %s\n' "$*"; }

step "setup: Debian and Python packages"
bash scripts/setup.sh

step "build (debug)"
swift build 2>&1 | grep -v "found 1 file(s) which are unhandled" || { echo "build failed" >&2; exit 1; }
BIN_DIR="$(swift build --show-bin-path)"
export VOLTWATCH_BIN="$BIN_DIR/voltwatch"
"$VOLTWATCH_BIN" --version

step "Swift tests"
swift test 2>&1 | grep -v "found 1 file(s) which are unhandled"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "swift test failed" >&2; exit 1; }
[ "${1:-}" = "--swift" ] && exit 0

step "shipped configuration"
"$VOLTWATCH_BIN" check-config config/model_config.json >/dev/null

step "portability: C targets on glibc and musl, Glibc imports guarded"
bash scripts/portability.sh

step "fuzzing: libFuzzer on the parsers, ${FUZZ_SECONDS:-60} s per target (FUZZ_SECONDS=0 skips; docs/fuzzing.md)"
[ "${FUZZ_SECONDS:-60}" = 0 ] || bash scripts/fuzz.sh

step "firmware build (Uno, Nano) and the simulated board"
bash scripts/build-firmware.sh --sim

step "Python end-to-end tests (real clients, ptys, umockdev, simavr, detection quality)"
python3 -m pytest -q -p no:cacheprovider tests
