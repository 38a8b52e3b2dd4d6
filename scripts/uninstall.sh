#!/usr/bin/env bash
# Reverses scripts/install.sh: stops and disables the service, removes the binary, unit,
# udev rule and docs. Keeps a model_config.json you changed and the recordings in
# /var/lib/voltwatch, and the service user, unless --purge.
#
#   sudo scripts/uninstall.sh             remove the program, keep your data
#   sudo scripts/uninstall.sh --purge     remove configuration, recordings and the user too
#   DESTDIR=/tmp/stage scripts/uninstall.sh   the same inside a staging folder
#
# Use the same PREFIX, SYSCONFDIR, UNITDIR and UDEVRULESDIR as for install.sh.
set -euo pipefail

PREFIX="${PREFIX:-/usr/local}"
DESTDIR="${DESTDIR:-}"
SYSCONFDIR="${SYSCONFDIR:-/etc}"
UNITDIR="${UNITDIR:-/etc/systemd/system}"
UDEVRULESDIR="${UDEVRULESDIR:-/etc/udev/rules.d}"
STATEDIR="${STATEDIR:-/var/lib/voltwatch}"
SERVICE_USER="${SERVICE_USER:-voltwatch}"
PURGE=0

while [ $# -gt 0 ]; do
  case "$1" in
    --purge) PURGE=1; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "uninstall: unknown argument $1 (see --help)" >&2; exit 64 ;;
  esac
done

say() { printf 'uninstall: %s\n' "$*"; }

if [ -z "$DESTDIR" ] && [ "$(id -u)" -ne 0 ]; then
  echo "uninstall: run as root (sudo $0), or set DESTDIR" >&2
  exit 77
fi

if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
  systemctl disable --now voltwatch 2>/dev/null || true
fi

SHARE="$PREFIX/share/voltwatch"
CONFDIR="$DESTDIR$SYSCONFDIR/voltwatch"
CONFIG="$CONFDIR/model_config.json"
SHIPPED="$DESTDIR$SHARE/model_config.json"

remove() { if [ -e "$1" ] || [ -L "$1" ]; then rm -f "$1"; say "removed $1"; fi; }
remove "$DESTDIR$PREFIX/bin/voltwatch"
remove "$DESTDIR$UNITDIR/voltwatch.service"
remove "$DESTDIR$UDEVRULESDIR/99-voltwatch.rules"
remove "$DESTDIR$PREFIX/share/doc/voltwatch/service.md"
rmdir "$DESTDIR$PREFIX/share/doc/voltwatch" 2>/dev/null || true

# The configuration goes only when it is the default we installed, or with --purge.
if [ -e "$CONFIG" ]; then
  if [ "$PURGE" = 1 ] || { [ -e "$SHIPPED" ] && cmp -s "$CONFIG" "$SHIPPED"; }; then
    remove "$CONFIG"
  else
    say "kept $CONFIG (you changed it; --purge removes it)"
  fi
fi
remove "$CONFIG.new"
remove "$SHIPPED"
# The token is what phones and apps sign in with: kept (a reinstall keeps working with them)
# unless --purge.
if [ -e "$CONFDIR/token" ]; then
  if [ "$PURGE" = 1 ]; then remove "$CONFDIR/token"; else say "kept $CONFDIR/token (the access token; --purge removes it)"; fi
fi
rmdir "$DESTDIR$SHARE" "$CONFDIR" 2>/dev/null || true

if [ "$PURGE" = 1 ]; then
  if [ -d "$DESTDIR${STATEDIR:?}" ]; then rm -rf -- "$DESTDIR$STATEDIR"; say "removed $DESTDIR$STATEDIR (recordings)"; fi
  if [ -z "$DESTDIR" ] && getent passwd "$SERVICE_USER" >/dev/null; then
    userdel "$SERVICE_USER" && say "removed user $SERVICE_USER"
  fi
elif [ -d "$DESTDIR$STATEDIR" ]; then
  say "kept $DESTDIR$STATEDIR (recordings; --purge removes them)"
fi

if [ -z "$DESTDIR" ]; then
  [ -d /run/systemd/system ] && systemctl daemon-reload
  if command -v udevadm >/dev/null && [ -e /run/udev/control ]; then udevadm control --reload; fi
fi
say "done"
