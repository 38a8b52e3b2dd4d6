#!/usr/bin/env bash
# Installs voltwatch as a systemd service: builds release, installs the binary, the unit, the
# udev rule and the default configuration, creates the service user, and prints the commands
# to enable and follow the service. scripts/uninstall.sh reverses it.
#
#   sudo scripts/install.sh                      build and install under /usr/local
#   sudo PREFIX=/usr scripts/install.sh          binary in /usr/bin
#   DESTDIR=/tmp/stage scripts/install.sh        stage only: no user, no systemctl/udevadm
#   scripts/install.sh --binary PATH             install PATH instead of building
#
# /etc/voltwatch/model_config.json is never overwritten once you changed it: a new default is
# written beside it as model_config.json.new (as dpkg does with a conffile). The shipped
# default is kept in $PREFIX/share/voltwatch/ to tell "changed" from "an older default".
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX="${PREFIX:-/usr/local}"
DESTDIR="${DESTDIR:-}"
SYSCONFDIR="${SYSCONFDIR:-/etc}"
UNITDIR="${UNITDIR:-/etc/systemd/system}"
UDEVRULESDIR="${UDEVRULESDIR:-/etc/udev/rules.d}"
SERVICE_USER="${SERVICE_USER:-voltwatch}"
BINARY=""

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BINARY="${2:?--binary needs a path}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install: unknown argument $1 (see --help)" >&2; exit 64 ;;
  esac
done

say() { printf 'install: %s\n' "$*"; }

if [ -z "$DESTDIR" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install: run as root (sudo $0), or set DESTDIR to stage the files" >&2
  exit 77
fi

if [ -z "$BINARY" ]; then
  say "building release (swift build -c release --product voltwatch)"
  # A failed build stops here (pipefail), rather than installing a binary left by an earlier one.
  swift build -c release --product voltwatch 2>&1 | { grep -v "unhandled; explicitly declare" || true; } \
    || { echo "install: the release build failed (its errors are above)" >&2; exit 70; }
  BINARY="$(swift build -c release --show-bin-path)/voltwatch"
fi
[ -x "$BINARY" ] || { echo "install: $BINARY is not an executable (build failed?)" >&2; exit 66; }

BIN="$PREFIX/bin/voltwatch"
SHARE="$PREFIX/share/voltwatch"
CONFDIR="$SYSCONFDIR/voltwatch"

install -d -m 0755 "$DESTDIR$PREFIX/bin" "$DESTDIR$SHARE" "$DESTDIR$PREFIX/share/doc/voltwatch" \
  "$DESTDIR$UNITDIR" "$DESTDIR$UDEVRULESDIR" "$DESTDIR$CONFDIR"
install -m 0755 "$BINARY" "$DESTDIR$BIN"
say "binary      $DESTDIR$BIN"

# The unit names the binary: point it at this PREFIX.
sed "s#/usr/local/bin/voltwatch#$BIN#g" systemd/voltwatch.service > "$DESTDIR$UNITDIR/voltwatch.service.tmp"
chmod 0644 "$DESTDIR$UNITDIR/voltwatch.service.tmp"
mv "$DESTDIR$UNITDIR/voltwatch.service.tmp" "$DESTDIR$UNITDIR/voltwatch.service"
say "unit        $DESTDIR$UNITDIR/voltwatch.service"
install -m 0644 systemd/99-voltwatch.rules "$DESTDIR$UDEVRULESDIR/99-voltwatch.rules"
say "udev rule   $DESTDIR$UDEVRULESDIR/99-voltwatch.rules"
install -m 0644 docs/service.md "$DESTDIR$PREFIX/share/doc/voltwatch/service.md"

# Configuration: install, keep, replace an untouched older default, or put the new one beside.
CONFIG="$DESTDIR$CONFDIR/model_config.json"
SHIPPED="$DESTDIR$SHARE/model_config.json"
if [ ! -e "$CONFIG" ]; then
  install -m 0644 config/model_config.json "$CONFIG"
  say "config      $CONFIG"
elif cmp -s "$CONFIG" config/model_config.json; then
  say "config      $CONFIG (unchanged)"
elif [ -e "$SHIPPED" ] && cmp -s "$CONFIG" "$SHIPPED"; then
  install -m 0644 config/model_config.json "$CONFIG"
  say "config      $CONFIG (you had not changed it: updated to the new default)"
else
  install -m 0644 config/model_config.json "$CONFIG.new"
  say "config      $CONFIG is yours and stays; the new default is $CONFIG.new — compare with: diff $CONFIG $CONFIG.new"
fi
install -m 0644 config/model_config.json "$SHIPPED"

# Secure once installed: the unit requires this token (--token-file). Kept across reinstalls;
# `voltwatch token --rotate` makes a new one.
TOKEN_FILE="$DESTDIR$CONFDIR/token"
if [ -s "$TOKEN_FILE" ]; then
  say "token       $TOKEN_FILE (kept)"
else
  "$DESTDIR$BIN" token --file "$TOKEN_FILE" --group "$SERVICE_USER" --quiet >/dev/null
  say "token       $TOKEN_FILE (new; show it with: sudo voltwatch token)"
fi
if ! check="$("$DESTDIR$BIN" check-config "$CONFIG" 2>&1)"; then
  say "warning: $CONFIG does not validate — the service will exit 78 until it does:"
  printf '%s\n' "$check"
fi

if [ -n "$DESTDIR" ]; then
  say "staged into $DESTDIR (DESTDIR set: no user created, systemd and udev not told)"
  exit 0
fi

if ! getent passwd "$SERVICE_USER" >/dev/null; then
  useradd --system --user-group --home-dir /var/lib/voltwatch --no-create-home \
    --shell /usr/sbin/nologin --comment "voltwatch agent" "$SERVICE_USER"
  say "user        $SERVICE_USER (system user)"
fi
# The token file was written before the group existed on a first install: let the service read it.
chgrp "$SERVICE_USER" "$TOKEN_FILE" && chmod 0640 "$TOKEN_FILE"
# dialout owns /dev/ttyACM* and /dev/ttyUSB* on Debian; newer Raspberry Pi OS uses plugdev too.
for group in dialout plugdev; do
  if getent group "$group" >/dev/null; then usermod -a -G "$group" "$SERVICE_USER"; fi
done
say "groups      $(id -nG "$SERVICE_USER")"

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
else
  say "systemd is not running here: run 'systemctl daemon-reload' on the target"
fi
if command -v udevadm >/dev/null && [ -e /run/udev/control ]; then
  udevadm control --reload
  udevadm trigger --subsystem-match=tty --action=add
else
  say "udevd is not running here: the rule applies from the next boot or plug-in"
fi

cat <<EOT

voltwatch is installed. Start it now and at every boot, then follow its log:

  sudo systemctl enable --now voltwatch
  journalctl -u voltwatch -f

Then open http://$(hostname -f 2>/dev/null || hostname):5000/ and sign in with the token:

  sudo voltwatch token

(Reload a changed $CONFDIR/model_config.json with: sudo systemctl reload voltwatch)
EOT
