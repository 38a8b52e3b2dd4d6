#!/usr/bin/env bash
# Portability check, as close to a Raspberry Pi build as this machine allows.
#
# The Swift toolchain here has no static Linux (musl) SDK (`swift sdk list` is empty), so the
# Swift code cannot be built for musl here. What can be checked is checked:
#   1. every C target under Sources/ compiles with gcc (glibc) and musl-gcc (musl), -Werror;
#   2. the serial shims (CLinuxShims) compile against a C library without the Linux
#      extensions (scripts/portability/old-uapi.h removes the non-POSIX termios rates,
#      CRTSCTS and PR_SET_NAME), so no constant is used without a guard and fallback;
#   3. the shims run: scripts/portability/shim_check.c drives them on a real pty, linked
#      against glibc, statically against musl, and in the reduced build;
#   4. no Swift file imports Glibc unguarded (each `import Glibc` sits in
#      `#if canImport(Glibc)` with an `#elseif canImport(Musl)` branch) or names a function
#      `Glibc.xxx` (a musl build has no module of that name).
# Needs gcc, musl-gcc (Debian: musl-tools; scripts/setup.sh installs it) and libudev-dev.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
fail() { echo "portability: FAIL: $*" >&2; failed=1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for cc in gcc musl-gcc; do
  command -v "$cc" >/dev/null || { echo "portability: $cc not found — run scripts/setup.sh (Debian package musl-tools)" >&2; exit 2; }
done
CFLAGS=(-std=gnu11 -Wall -Wextra -Werror -O2)
# musl-gcc sees musl's headers only; a musl system takes the kernel's UAPI headers (linux/,
# asm/) from a separate package, as Alpine does. Give it Debian's, and nothing of glibc.
uapi="$work/uapi"
mkdir -p "$uapi"
ln -s /usr/include/linux "$uapi/linux"
ln -s /usr/include/asm-generic "$uapi/asm-generic"
ln -s "/usr/include/$(gcc -dumpmachine)/asm" "$uapi/asm"
MUSL_UAPI=(-isystem "$uapi")

# 1. Every C target, both C libraries.
for target in Sources/*/; do
  name=$(basename "$target")
  sources=$(find "$target" -name '*.c' | sort)
  [ -n "$sources" ] || continue
  include=()
  [ -d "$target/include" ] && include=(-I "$target/include")
  target_ok=1
  for cc in gcc musl-gcc; do
    for source in $sources; do
      extra=()
      [ "$cc" = musl-gcc ] && extra=("${MUSL_UAPI[@]}")
      if ! "$cc" "${CFLAGS[@]}" "${extra[@]}" "${include[@]}" -c "$source" -o "$work/$name.o" 2>"$work/err"; then
        fail "$name ($(basename "$source")) does not compile with $cc:"; sed 's/^/    /' "$work/err" >&2
        target_ok=0
      fi
    done
  done
  [ $target_ok -eq 1 ] && echo "portability: C target $name compiles with gcc and musl-gcc" >&2
done
# CUdev is a header for libudev, which musl systems ship too (eudev); glibc's is here.
if ! echo '#include "shim.h"' | gcc "${CFLAGS[@]}" -fsyntax-only -I Sources/CUdev -x c - 2>"$work/err"; then
  fail "Sources/CUdev/shim.h does not compile:"; sed 's/^/    /' "$work/err" >&2
fi

# 2 and 3. The serial shims: built and run on glibc, static musl, and without the extensions.
shims=(-I Sources/CLinuxShims/include Sources/CLinuxShims/linux_shims.c scripts/portability/shim_check.c)
build_and_run() {  # label, compiler, extra flags..., then -- and the checker's arguments
  local label=$1 cc=$2; shift 2
  local flags=() args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do flags+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  args=("$@")
  if ! "$cc" "${CFLAGS[@]}" "${flags[@]}" "${shims[@]}" -o "$work/check-$label" 2>"$work/err"; then
    fail "CLinuxShims ($label) does not compile:"; sed 's/^/    /' "$work/err" >&2
    return
  fi
  if ! "$work/check-$label" "${args[@]}" >"$work/out" 2>&1; then
    fail "CLinuxShims ($label) misbehaves:"; sed 's/^/    /' "$work/out" >&2
    return
  fi
  echo "portability: CLinuxShims $label: $(cat "$work/out")" >&2
}
build_and_run glibc gcc
build_and_run musl-static musl-gcc -static
build_and_run glibc-posix-only gcc -include scripts/portability/old-uapi.h -- --posix
build_and_run musl-posix-only musl-gcc -static -include scripts/portability/old-uapi.h -- --posix

# 4. Swift: Glibc only behind canImport, always with a Musl branch, never spelled out.
while IFS= read -r file; do
  awk -v file="$file" '
    { line[NR] = $0 }
    END {
      bad = 0
      for (i = 1; i <= NR; i++) {
        text = line[i]
        if (text ~ /^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)?((public|package|internal|private|fileprivate)[[:space:]]+)?import[[:space:]]+Glibc[[:space:]]*$/) {
          if (line[i-1] !~ /^[[:space:]]*#if[[:space:]]+canImport\(Glibc\)/ || line[i+1] !~ /^[[:space:]]*#elseif[[:space:]]+canImport\(Musl\)/) {
            printf "%s:%d: import Glibc needs #if canImport(Glibc) before it and #elseif canImport(Musl) after it\n", file, i
            bad = 1
          }
        }
        code = text
        sub(/\/\/.*/, "", code)
        if (code ~ /(^|[^A-Za-z0-9_])Glibc\.[A-Za-z_]/) {
          gsub(/^[[:space:]]+|[[:space:]]+$/, "", code)
          printf "%s:%d: `%s`: naming Glibc ties the file to glibc; call the function unqualified (or through a wrapper)\n", file, i, code
          bad = 1
        }
      }
      exit bad
    }' "$file" >&2 || fail "$file imports or names Glibc unguarded"
done < <(git ls-files '*.swift')
[ $failed -eq 0 ] && echo "portability: Swift files import Glibc only behind canImport, with a Musl branch" >&2

if [ $failed -ne 0 ]; then
  echo "portability: FAILED" >&2
  exit 1
fi
echo "portability: ok" >&2
