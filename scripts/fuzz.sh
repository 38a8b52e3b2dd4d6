#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ with the toolchain's -sanitize=fuzzer (plus
# AddressSanitizer) and runs each for a while on its seed corpus. Exits non-zero when a target
# crashes, leaks or times out; the input that did it is kept for a regression test.
# See docs/fuzzing.md.
#
#   scripts/fuzz.sh                      every target, FUZZ_SECONDS (default 60) each
#   scripts/fuzz.sh framing config       only these (framing replay config engineio websocket)
#   FUZZ_SECONDS=600 scripts/fuzz.sh replay
#   scripts/fuzz.sh --build-only         build, do not run
#
# Environment: FUZZ_SECONDS (run length per target), FUZZ_OUT (build, corpus and crash folder;
# default .build-fuzz), FUZZ_SANITIZE (default fuzzer,address), FUZZ_ARGS (more libFuzzer
# flags). The targets are not part of the package: `swift build` and `swift test` never see
# them, and their flags never reach the agent's build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT="${FUZZ_OUT:-$ROOT/.build-fuzz}"
RUN_SECONDS="${FUZZ_SECONDS:-60}"
SANITIZE="${FUZZ_SANITIZE:-fuzzer,address}"
ALL=(framing replay config engineio websocket)

build_only=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --build-only) build_only=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    framing|replay|config|engineio|websocket) targets+=("$arg") ;;
    *) echo "fuzz: unknown target '$arg' (known: ${ALL[*]})" >&2; exit 64 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")

mkdir -p "$OUT/core" "$OUT/bin" "$OUT/logs"
# The package's language mode and upcoming features, so the fuzzed code is the code that ships.
SWIFT_FLAGS=(-swift-version 6 -enable-upcoming-feature ExistentialAny
  -enable-upcoming-feature MemberImportVisibility -enable-upcoming-feature InternalImportsByDefault
  -O -sanitize="$SANITIZE" -parse-as-library -use-ld=lld)
# A crash is reported by libFuzzer and the sanitizer; Swift's own backtracer would race them.
export SWIFT_BACKTRACE=enable=no

# VoltCore once, as an instrumented static library that the core's targets link.
build_core() {
  local sources
  mapfile -t sources < <(find Sources/VoltCore -name '*.swift' | sort)
  local newest
  newest=$(ls -t "${sources[@]}" | head -1)
  if [ -f "$OUT/core/libVoltCore.a" ] && [ "$OUT/core/libVoltCore.a" -nt "$newest" ]; then return; fi
  echo "fuzz: building VoltCore (instrumented)" >&2
  swiftc "${SWIFT_FLAGS[@]}" -module-name VoltCore -emit-library -static -emit-module \
    -emit-module-path "$OUT/core/VoltCore.swiftmodule" -o "$OUT/core/libVoltCore.a" "${sources[@]}"
}

build_target() {
  local target=$1
  case "$target" in
    framing|replay|config)
      build_core
      local file
      case "$target" in
        framing) file=Fuzz/Targets/FuzzFraming.swift ;;
        replay) file=Fuzz/Targets/FuzzReplay.swift ;;
        config) file=Fuzz/Targets/FuzzConfigJSON.swift ;;
      esac
      if [ "$OUT/bin/fuzz-$target" -nt "$file" ] && [ "$OUT/bin/fuzz-$target" -nt "$OUT/core/libVoltCore.a" ]; then return; fi
      echo "fuzz: building fuzz-$target" >&2
      swiftc "${SWIFT_FLAGS[@]}" -module-name "Fuzz_$target" -I "$OUT/core" -L "$OUT/core" -lVoltCore \
        "$file" -o "$OUT/bin/fuzz-$target"
      ;;
    engineio)
      # The server's module needs NIO and Hummingbird; the packet codec is one file with no imports.
      if [ "$OUT/bin/fuzz-engineio" -nt Fuzz/Targets/FuzzEngineIO.swift ] &&
         [ "$OUT/bin/fuzz-engineio" -nt Sources/VoltServer/Protocol/SocketIOPacket.swift ]; then return; fi
      echo "fuzz: building fuzz-engineio" >&2
      swiftc "${SWIFT_FLAGS[@]}" -module-name Fuzz_engineio \
        Sources/VoltServer/Protocol/SocketIOPacket.swift Fuzz/Targets/FuzzEngineIO.swift -o "$OUT/bin/fuzz-engineio"
      ;;
    websocket)
      if [ "$OUT/bin/fuzz-websocket" -nt Fuzz/WebSocket/Sources/FuzzWebSocket.swift ] &&
         [ "$OUT/bin/fuzz-websocket" -nt Fuzz/WebSocket/Package.swift ]; then return; fi
      echo "fuzz: building fuzz-websocket (SwiftNIO, instrumented; the first build takes minutes)" >&2
      local flags=()
      IFS=, read -ra kinds <<< "$SANITIZE"
      for kind in "${kinds[@]}"; do flags+=(--sanitize="$kind"); done
      # SwiftPM passes one -sanitize= per kind, in an order that changes from run to run (a
      # set), and swiftc keeps only the last: with address last, nothing was instrumented for
      # coverage and libFuzzer ran blind. The combined flag, given last, is what swiftc keeps.
      flags+=(-Xswiftc -sanitize="$SANITIZE")
      swift build -c release --package-path Fuzz/WebSocket --scratch-path "$OUT/websocket" "${flags[@]}" \
        2>&1 | grep -v -e "found 1 file(s) which are unhandled" -e "Cannot export local symbol" >&2
      [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz: websocket build failed" >&2; return 1; }
      # SwiftNIO's code must carry libFuzzer's coverage counters, or the run finds nothing.
      local bin_dir
      bin_dir="$(swift build -c release --package-path Fuzz/WebSocket --scratch-path "$OUT/websocket" --show-bin-path)"
      if [[ ",$SANITIZE," == *",fuzzer,"* ]]; then
        local counters
        counters="$(readelf -S "$bin_dir"/NIOWebSocket.build/*.o 2>/dev/null | grep -c sancov_cntrs || true)"
        if [ "${counters:-0}" -eq 0 ]; then
          echo "fuzz: the websocket target's SwiftNIO was built without coverage instrumentation" >&2
          return 1
        fi
      fi
      cp "$bin_dir/fuzz-websocket" "$OUT/bin/fuzz-websocket"
      ;;
  esac
}

# Runs one target; prints "target exec/s cov ft corpus" on success.
run_target() {
  local target=$1
  local corpus="$OUT/corpus/$target" crashes="$OUT/crashes/$target" log="$OUT/logs/$target.log"
  mkdir -p "$corpus" "$crashes"
  local dict=()
  [ -f "Fuzz/Dictionaries/$target.dict" ] && dict=(-dict="Fuzz/Dictionaries/$target.dict")
  echo "fuzz: running fuzz-$target for ${RUN_SECONDS} s (log: $log)" >&2
  set +e
  # New inputs go to the first folder (the build's); the seeds in the repository are only read.
  # shellcheck disable=SC2086
  "$OUT/bin/fuzz-$target" "$corpus" "Fuzz/Corpus/$target" "${dict[@]}" \
    -max_total_time="$RUN_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$crashes/" ${FUZZ_ARGS:-} > "$log" 2>&1
  local status=$?
  set -e
  local last
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  local cov ft corp speed runs
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<< "$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<< "$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9a-zA-Z]+).*/\1/p' <<< "$last")
  runs=$(sed -nE 's/^stat::number_of_executed_units: ([0-9]+)/\1/p' "$log")
  speed=$(sed -nE 's/^stat::average_exec_per_sec: +([0-9]+)/\1/p' "$log")
  printf '%-10s %10s runs %8s exec/s   cov %6s   ft %6s   corpus %s\n' \
    "$target" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
  if [ $status -ne 0 ]; then
    echo "fuzz: fuzz-$target FAILED (status $status); the input is in $crashes/:" >&2
    ls -l "$crashes" >&2 || true
    grep -E 'ERROR|Fatal error|panic|SUMMARY|precondition' "$log" | head -20 >&2 || true
    echo "fuzz: reproduce with $OUT/bin/fuzz-$target <input>; save it as a regression test in Tests/VoltCoreTests (docs/fuzzing.md)" >&2
    return 1
  fi
}

for target in "${targets[@]}"; do build_target "$target"; done
[ $build_only -eq 1 ] && exit 0

failed=0
for target in "${targets[@]}"; do run_target "$target" || failed=1; done
exit $failed
