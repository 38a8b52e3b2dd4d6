#!/usr/bin/env bash
# Builds voltwatch_<version>_<arch>.deb: a gateway install without a compiler.
#
#   scripts/package-deb.sh                    release build (swift build -c release), then package
#   scripts/package-deb.sh --binary PATH      package PATH, a release build of this toolchain
#   scripts/package-deb.sh --out DIR          where the .deb goes (default: the repository)
#
# The package holds the binary and, in /usr/lib/voltwatch, the Swift runtime libraries it was
# linked against (the binary looks there first: no Swift toolchain on the gateway), the systemd
# unit, the udev rule, the default configuration as a conffile (dpkg never overwrites a changed
# one), and maintainer scripts that create the `voltwatch` system user and a random access token
# on install, and remove them (and the history) on purge. Needs patchelf, fakeroot and
# dpkg-dev's tools (scripts/setup.sh --test installs them). Install with:
#
#   sudo apt install ./voltwatch_<version>_<arch>.deb
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BINARY=""
OUT="$ROOT"
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BINARY="${2:?--binary needs a path}"; shift 2 ;;
    --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package-deb: unknown argument $1 (see --help)" >&2; exit 64 ;;
  esac
done

for tool in patchelf fakeroot dpkg-deb strip; do
  command -v "$tool" >/dev/null || { echo "package-deb: $tool is missing; install it with: sudo apt-get install patchelf fakeroot dpkg-dev binutils" >&2; exit 69; }
done

if [ -z "$BINARY" ]; then
  echo "package-deb: release build (the first build takes several minutes)" >&2
  swift build -c release --product voltwatch 2>&1 \
    | { grep -v -e "unhandled; explicitly declare" -e "mktemp' is dangerous" -e "CMakeLists.txt" >&2 || true; } \
    || { echo "package-deb: the release build failed (its errors are above)" >&2; exit 70; }
  BINARY="$(swift build -c release --show-bin-path)/voltwatch"
fi
[ -x "$BINARY" ] || { echo "package-deb: $BINARY is not an executable" >&2; exit 66; }

VERSION="$("$BINARY" --version)"
ARCH="$(dpkg --print-architecture)"
NAME="voltwatch_${VERSION}_${ARCH}"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
PKG="$STAGE/$NAME"

install -d -m 0755 "$PKG/DEBIAN" "$PKG/usr/bin" "$PKG/usr/lib/voltwatch" "$PKG/lib/systemd/system" \
  "$PKG/lib/udev/rules.d" "$PKG/etc/voltwatch" "$PKG/usr/share/voltwatch" "$PKG/usr/share/doc/voltwatch"
install -m 0755 "$BINARY" "$PKG/usr/bin/voltwatch"

# The Swift runtime: every library the binary loads from the toolchain that built it (ldd lists
# the whole closure: Foundation pulls in ICU, dispatch, the string processing), copied into the
# package's private directory; the binary's search path becomes that directory alone, so a
# gateway with another Swift installed still gets the runtime the binary was built against.
# The system's own libraries become the package's Depends (dpkg -S tells whose they are).
TOOLCHAIN_LIBS="$(dirname "$(readlink -f "$(command -v swiftc)")")/../lib/swift/linux"
TOOLCHAIN_LIBS="$(readlink -f "$TOOLCHAIN_LIBS")"
LINKED="$(ldd "$BINARY")"
if grep -q "not found" <<< "$LINKED"; then
  echo "package-deb: $BINARY needs libraries this machine lacks:" >&2
  grep "not found" <<< "$LINKED" >&2
  exit 69
fi
system_libs=()
while read -r path; do
  [ -n "$path" ] || continue
  case "$(readlink -f "$path")" in
    "$TOOLCHAIN_LIBS"/*) install -m 0644 "$path" "$PKG/usr/lib/voltwatch/" ;;
    *) system_libs+=("$path") ;;
  esac
done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<< "$LINKED")
shopt -s nullglob
runtime=("$PKG"/usr/lib/voltwatch/*.so*)
shopt -u nullglob
[ ${#runtime[@]} -gt 0 ] || echo "package-deb: $BINARY loads nothing from the toolchain ($TOOLCHAIN_LIBS); nothing bundled" >&2
strip --strip-unneeded "$PKG/usr/bin/voltwatch" "${runtime[@]}"
patchelf --set-rpath /usr/lib/voltwatch "$PKG/usr/bin/voltwatch"
for lib in "${runtime[@]}"; do patchelf --set-rpath '$ORIGIN' "$lib"; done
# Only what the binary and the bundled libraries load directly: dpkg resolves the rest.
needed="$( { readelf -d "$BINARY"; for lib in "${runtime[@]}"; do readelf -d "$lib"; done; } \
  | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)"
depends=()
for path in "${system_libs[@]}"; do
  grep -qxF "$(basename "$path")" <<< "$needed" || continue
  owner=""
  for candidate in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
    owner="$(dpkg -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1)" && [ -n "$owner" ] && break
  done
  [ -n "$owner" ] || { echo "package-deb: no Debian package owns $path; cannot say what the package depends on" >&2; exit 69; }
  depends+=("$owner")
done
DEPENDS="$(printf '%s\n' "${depends[@]}" adduser | sort -u | paste -sd, | sed 's/,/, /g'), init-system-helpers (>= 1.54)"
sed "s#/usr/local/bin/voltwatch#/usr/bin/voltwatch#g" systemd/voltwatch.service > "$PKG/lib/systemd/system/voltwatch.service"
chmod 0644 "$PKG/lib/systemd/system/voltwatch.service"
install -m 0644 systemd/99-voltwatch.rules "$PKG/lib/udev/rules.d/99-voltwatch.rules"
install -m 0644 config/model_config.json "$PKG/etc/voltwatch/model_config.json"
install -m 0644 config/model_config.json "$PKG/usr/share/voltwatch/model_config.json"
install -m 0644 docs/service.md docs/channels.md docs/DESIGN.md "$PKG/usr/share/doc/voltwatch/"

cat > "$PKG/usr/share/doc/voltwatch/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: voltwatch
Source: the voltwatch repository

Files: *
Copyright: 2026 the voltwatch authors
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of this software
 and associated documentation files (the "Software"), to deal in the Software without
 restriction, including without limitation the rights to use, copy, modify, merge, publish,
 distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
 Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all copies or
 substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.

Files: usr/bin/voltwatch (the zlib copy of swift-nio-extras' CNIOExtrasZlib)
Copyright: 1995-2024 Jean-loup Gailly and Mark Adler
License: Zlib
 This software is provided 'as-is', without any express or implied warranty. Permission is
 granted to anyone to use this software for any purpose, including commercial applications,
 and to alter it and redistribute it freely, subject to the restrictions in zlib.h.

Files: usr/lib/voltwatch/*
Copyright: Apple Inc. and the Swift project authors (the Swift standard library, Foundation,
 Dispatch); Unicode, Inc. and others (ICU, inside lib_FoundationICU.so)
License: Apache-2.0 with Runtime Library Exception, and Unicode-3.0 (ICU)
 The Swift runtime as the Swift toolchain ships it (https://swift.org). Licensed under the Apache
 License, Version 2.0, with the Runtime Library Exception: "As an exception, if you use this
 Software to compile your source code and portions of this Software are embedded into the binary
 product as a result, you may redistribute such product without providing attribution as would
 otherwise be required by Sections 4(a), 4(b) and 4(d) of the License." The Apache License is in
 /usr/share/common-licenses/Apache-2.0. ICU: Copyright (c) 2016 and later Unicode, Inc. and
 others, distributed under the Unicode License v3 (https://www.unicode.org/license.txt).
EOF
printf 'voltwatch (%s) stable; urgency=medium\n\n  * Release %s.\n\n -- voltwatch maintainers <maintainers@voltwatch.org>  %s\n' \
  "$VERSION" "$VERSION" "$(date -R)" | gzip -9n > "$PKG/usr/share/doc/voltwatch/changelog.gz"
chmod 0644 "$PKG/usr/share/doc/voltwatch/"*
# The webhook client (AsyncHTTPClient) decompresses answers through swift-nio-extras, which
# compiles its own copy of zlib with prefixed symbols (CNIOExtrasZlib) into the binary; it
# cannot be unbundled, so the copy is declared (copyright above) and lintian told it is known.
install -d -m 0755 "$PKG/usr/share/lintian/overrides"
printf 'voltwatch: embedded-library zlib [usr/bin/voltwatch]\n' > "$PKG/usr/share/lintian/overrides/voltwatch"
chmod 0644 "$PKG/usr/share/lintian/overrides/voltwatch"

INSTALLED_SIZE="$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)"
cat > "$PKG/DEBIAN/control" <<EOF
Package: voltwatch
Version: $VERSION
Architecture: $ARCH
Maintainer: voltwatch maintainers <maintainers@voltwatch.org>
Installed-Size: $INSTALLED_SIZE
Depends: $DEPENDS
Section: electronics
Priority: optional
Description: watches a voltage sampled by an Arduino and alarms on anomalies
 voltwatch finds an Arduino on USB through udev, reads its voltage frames,
 scores every sample for anomalies (spikes, dips, drift, level shifts,
 dropouts and more) and pushes the results to phones and browsers over
 WebSocket and Socket.IO, keeps history, and publishes over MQTT. It runs
 as a hardened systemd service that requires an access token.
EOF
echo "/etc/voltwatch/model_config.json" > "$PKG/DEBIAN/conffiles"

cat > "$PKG/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    if ! getent passwd voltwatch >/dev/null; then
        adduser --system --group --home /var/lib/voltwatch --no-create-home --disabled-login \
            --gecos "voltwatch agent" voltwatch >/dev/null
    fi
    for group in dialout plugdev; do
        if getent group "$group" >/dev/null; then adduser voltwatch "$group" >/dev/null 2>&1 || true; fi
    done
    if [ ! -s /etc/voltwatch/token ]; then
        voltwatch token --file /etc/voltwatch/token --group voltwatch --quiet >/dev/null
        echo "voltwatch: made an access token; show it with: sudo voltwatch token"
    fi
    chgrp voltwatch /etc/voltwatch/token && chmod 0640 /etc/voltwatch/token
    # As debhelper would: enable the unit, then (re)start it where systemd runs.
    if command -v deb-systemd-helper >/dev/null; then
        deb-systemd-helper enable voltwatch.service >/dev/null || true
    fi
    if [ -d /run/systemd/system ] && command -v deb-systemd-invoke >/dev/null; then
        deb-systemd-invoke restart voltwatch.service >/dev/null || true
    fi
    if command -v udevadm >/dev/null && [ -e /run/udev/control ]; then
        udevadm control --reload >/dev/null 2>&1 || true
        udevadm trigger --subsystem-match=tty --action=add >/dev/null 2>&1 || true
    fi
    echo "voltwatch: open http://$(hostname):5000/ and sign in with the token (sudo voltwatch token)"
fi
exit 0
EOF
cat > "$PKG/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ] && command -v deb-systemd-invoke >/dev/null; then
    deb-systemd-invoke stop voltwatch.service >/dev/null || true
fi
exit 0
EOF
cat > "$PKG/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
    rm -f /etc/voltwatch/token
    rm -rf /var/lib/voltwatch
    rmdir /etc/voltwatch 2>/dev/null || true
    if getent passwd voltwatch >/dev/null; then deluser --system voltwatch >/dev/null 2>&1 || true; fi
    if command -v deb-systemd-helper >/dev/null; then deb-systemd-helper purge voltwatch.service >/dev/null || true; fi
fi
if [ "$1" = remove ] && command -v deb-systemd-helper >/dev/null; then
    deb-systemd-helper mask voltwatch.service >/dev/null || true
fi
exit 0
EOF
chmod 0755 "$PKG/DEBIAN/postinst" "$PKG/DEBIAN/prerm" "$PKG/DEBIAN/postrm"

mkdir -p "$OUT"
fakeroot dpkg-deb --build -Zxz "$PKG" "$OUT/$NAME.deb" >/dev/null
echo "$OUT/$NAME.deb"
echo "package-deb: $(du -h "$OUT/$NAME.deb" | cut -f1) $OUT/$NAME.deb" >&2
