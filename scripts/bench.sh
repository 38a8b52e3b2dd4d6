#!/usr/bin/env bash
# Benchmarks, release mode. Reports figures; asserts nothing (targets live in the issue notes,
# machines here are noisy: compare ratios measured in one run).
#
#   scripts/bench.sh          throughput
#     (a) the core alone: framing + parsing + scoring of in-memory $VOLT frames, one core
#     (b) `voltwatch replay --fast` over the whole labelled voltage set, JSON output to files
#         (--jobs 1: one core; then the default, one file per core)
#   scripts/bench.sh server   WebSocket fan-out (scripts/loadtest.py): 10, 100 and 1,000 clients at
#                             10 Hz, each run followed by the minimal C server (--floor c) under
#                             the same clients, the floor this machine allows any server; with
#                             clients that read in batches between frames (nearest to phones on
#                             other machines) and clients woken by every arrival
#                             (BENCH_CLIENT_READS="batch" or "wake" runs one kind only;
#                             BENCH_CLIENTS="1 1000" picks the client counts)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "server" ]; then
  swift build -c release --product voltwatch 2>&1 | grep -v "unhandled" | tail -1
  export VOLTWATCH_BIN="$(swift build -c release --show-bin-path)/voltwatch"
  SECONDS_PER_RUN="${BENCH_SECONDS:-20}"
  for reads in ${BENCH_CLIENT_READS:-batch wake}; do
    for clients in ${BENCH_CLIENTS:-10 100 1000}; do
      for server in voltwatch floor; do
        echo "== $server, $clients client(s), client reads: $reads, ${SECONDS_PER_RUN} s at 10 Hz"
        args=(--clients "$clients" --seconds "$SECONDS_PER_RUN" --client-reads "$reads")
        [ "$server" = floor ] && args+=(--floor c)
        python3 scripts/loadtest.py "${args[@]}" | grep -E "delivered|kernel timestamp|last client|CPU"
      done
    done
  done
  exit 0
fi
# The repository's labelled voltage traces (tests/quality/data/voltage), unpacked once; or the
# CSVs in BENCH_TRACES.
DATA="$(mktemp -d)"
OUT="$(mktemp -d)"
trap 'rm -rf "$DATA" "$OUT"' EXIT
if [ -n "${BENCH_TRACES:-}" ]; then
  CSVS=("$BENCH_TRACES"/*.csv)
else
  for gz in tests/quality/data/voltage/*.csv.gz; do gzip -dc "$gz" > "$DATA/$(basename "$gz" .gz)"; done
  CSVS=("$DATA"/*.csv)
fi

for product in voltwatch voltwatch-bench; do
  swift build -c release --product "$product" 2>&1 | grep -v "unhandled" | tail -1
done
BIN="$(swift build -c release --show-bin-path)"

echo "== (a) core: $BIN/voltwatch-bench core (all ${#CSVS[@]} traces as \$VOLT frames)"
"$BIN/voltwatch-bench" core "${CSVS[@]}"
echo "== (a') channels: the same samples as a six-channel board's \$VOLTS frames, per reading"
"$BIN/voltwatch-bench" channels "${CSVS[@]}"

for jobs in 1 0; do
  args=(replay --fast --out-dir "$OUT" --config config/model_config.json)
  [ "$jobs" -gt 0 ] && args+=(--jobs "$jobs")
  echo "== (b) replay: voltwatch ${args[*]} <${#CSVS[@]} CSVs>"
  for i in 1 2 3; do "$BIN/voltwatch" "${args[@]}" "${CSVS[@]}" 2>&1 | head -1; done
done
du -sh "$OUT" | awk '{print "   output: " $1 " of JSON lines"}'
