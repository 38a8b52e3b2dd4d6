#!/usr/bin/env bash
# Builds the voltwatch firmware (firmware/voltage_monitor) for the Arduino Uno and Nano with
# Debian's arduino-mk + gcc-avr + avr-libc, and prints flash and RAM use per board.
#
#   scripts/build-firmware.sh            # both boards
#   scripts/build-firmware.sh --sim      # ... and the simulator firmware/sim/voltsim
#   scripts/build-firmware.sh --clean    # rebuild from scratch
#
# Output goes to firmware/voltage_monitor/build-<board>*/ (ignored by git). Exits non-zero
# if a build fails or an image does not fit its board.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sketch="$root/firmware/voltage_monitor"
with_sim=0
clean=0
for arg in "$@"; do
  case "$arg" in
    --sim) with_sim=1 ;;
    --clean) clean=1 ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-firmware: unknown argument $arg" >&2; exit 2 ;;
  esac
done

for tool in avr-gcc avr-size make; do
  command -v "$tool" >/dev/null || { echo "build-firmware: $tool not found (scripts/setup.sh installs gcc-avr avr-libc arduino-mk)" >&2; exit 1; }
done
[ -f /usr/share/arduino/Arduino.mk ] || { echo "build-firmware: /usr/share/arduino/Arduino.mk not found (apt install arduino-mk)" >&2; exit 1; }

# board  make-args                      build dir                 flash limit (bootloader excluded)  RAM
boards=(
  "uno   BOARD_TAG=uno                  build-uno                 32256 2048"
  "nano  BOARD_TAG=nano                 build-nano-atmega328      30720 2048"
)

jobs="$(nproc 2>/dev/null || echo 2)"
status=0
report=()
for entry in "${boards[@]}"; do
  read -r name args dir flash_max ram_max <<<"$entry"
  log="$(mktemp)"
  if [ "$clean" -eq 1 ]; then make -C "$sketch" $args clean >/dev/null 2>&1 || true; fi
  echo "build-firmware: building $name ..." >&2
  if ! make -C "$sketch" -j"$jobs" $args >"$log" 2>&1; then
    cat "$log" >&2
    echo "build-firmware: $name build FAILED" >&2
    rm -f "$log"; status=1; continue
  fi
  # Warnings from our sketch (not the Arduino core) are shown.
  grep -E "voltage_monitor\.ino.*warning" "$log" >&2 || true
  rm -f "$log"
  elf="$sketch/$dir/voltage_monitor.elf"
  sizes="$(avr-size -C --mcu=atmega328p "$elf")"
  flash="$(awk '/^Program:/ {print $2}' <<<"$sizes")"
  ram="$(awk '/^Data:/ {print $2}' <<<"$sizes")"
  report+=("$(printf '%-5s %6d / %5d bytes (%4.1f%%)   %5d / %4d bytes (%4.1f%%)   %s' \
    "$name" "$flash" "$flash_max" "$(awk "BEGIN{print 100*$flash/$flash_max}")" \
    "$ram" "$ram_max" "$(awk "BEGIN{print 100*$ram/$ram_max}")" "${elf#"$root"/}")")
  if [ "$flash" -gt "$flash_max" ] || [ "$ram" -gt "$ram_max" ]; then
    echo "build-firmware: $name image does not fit the board" >&2; status=1
  fi
done

if [ "$with_sim" -eq 1 ]; then
  echo "build-firmware: building firmware/sim/voltsim ..." >&2
  make -s -C "$root/firmware/sim" || status=1
fi

echo "board  flash (program + data init)        RAM (data + bss, static)         image"
for line in "${report[@]}"; do echo "$line"; done
echo "(RAM excludes the stack; avr-size -C --mcu=atmega328p <elf> gives the same figures)"
exit "$status"
