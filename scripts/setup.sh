#!/usr/bin/env bash
# Installs what voltwatch needs on a fresh Debian machine, in two sets:
#
#   scripts/setup.sh --runtime   what building and running the agent needs: libudev (discovery),
#                                libsqlite3 (history), libmosquitto (MQTT). scripts/run.sh uses it.
#   scripts/setup.sh --test      that, plus what the tests need: the real parts they start
#                                (umockdev, simavr and avr-gcc, chromium, socat, tmux, mosquitto,
#                                musl-gcc for scripts/portability.sh) and the Python clients,
#                                installed into the project's own virtual environment (.venv),
#                                never into the system Python. scripts/test.sh uses it.
#
# Idempotent and non-interactive, so CI (no stdin) and a person get the same result. When
# another package manager holds the dpkg lock (an unattended upgrade on a fresh gateway), it
# says so and waits up to 5 minutes instead of failing with apt's raw error.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${1:---test}"
case "$MODE" in
  --runtime|--test) ;;
  *) echo "usage: scripts/setup.sh [--runtime|--test]" >&2; exit 64 ;;
esac

RUNTIME_APT=(libudev-dev pkg-config libsqlite3-dev libmosquitto-dev)
TEST_APT=(
  umockdev libumockdev-dev python3-gi gir1.2-umockdev-1.0
  simavr libsimavr-dev libelf-dev
  gcc-avr avr-libc arduino-mk
  chromium chromium-driver
  socat procps lsof iproute2 tmux
  musl-tools
  systemd
  mosquitto mosquitto-clients openssl
  python3-venv
  lintian fakeroot patchelf
)
PIP_PACKAGES=(pytest pytest-xdist websockets "python-socketio[client]" selenium schemathesis flask-socketio paho-mqtt requests)
# Tests override these to exercise the lock wait without touching the system.
APT_GET="${SETUP_APT_GET:-apt-get}"
DPKG_LOCK="${SETUP_DPKG_LOCK:-/var/lib/dpkg/lock-frontend}"
LOCK_WAIT_SECONDS="${SETUP_LOCK_WAIT_SECONDS:-300}"

packages=("${RUNTIME_APT[@]}")
[ "$MODE" = --test ] && packages+=("${TEST_APT[@]}")
need_apt=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
done
[ -n "${SETUP_FORCE_APT:-}" ] && need_apt+=(${SETUP_FORCE_APT})

# True while another process holds the dpkg frontend lock (apt takes it with fcntl).
lock_held() {
  [ -e "$DPKG_LOCK" ] || return 1
  python3 - "$DPKG_LOCK" <<'EOF'
import fcntl, sys
try:
    fd = open(sys.argv[1], "a")
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
}

if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if lock_held; then
    echo "setup: another package manager holds the dpkg lock ($DPKG_LOCK), perhaps an automatic update; waiting up to $((LOCK_WAIT_SECONDS / 60)) min..." >&2
    waited=0
    while lock_held; do
      if [ "$waited" -ge "$LOCK_WAIT_SECONDS" ]; then
        echo "setup: the dpkg lock is still held after ${LOCK_WAIT_SECONDS} s; let the other apt finish (see: ps -C apt-get,apt,dpkg,unattended-upgr) and run this again" >&2
        exit 75
      fi
      sleep 2
      waited=$((waited + 2))
    done
    echo "setup: the dpkg lock is free; going on" >&2
  fi
  echo "setup: installing Debian packages: ${need_apt[*]}" >&2
  # DPkg::Lock::Timeout: apt itself waits too, should another apt start in between.
  $SUDO env DEBIAN_FRONTEND=noninteractive $APT_GET -o DPkg::Lock::Timeout="$LOCK_WAIT_SECONDS" update -qq </dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive $APT_GET -o DPkg::Lock::Timeout="$LOCK_WAIT_SECONDS" \
    install -y -qq --no-install-recommends "${need_apt[@]}" </dev/null >/dev/null
fi

if [ "$MODE" = --test ]; then
  # The project's own Python: everything pip installs stays in .venv. (The umockdev tests run
  # Debian's /usr/bin/python3 with its python3-gi as a separate process.)
  VENV="${VOLTWATCH_VENV:-.venv}"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: making the Python environment $VENV" >&2
    "${PYTHON:-python3}" -m venv "$VENV"
  fi
  if ! "$VENV/bin/python" -c 'import pytest, xdist, websockets, socketio, selenium, schemathesis, flask_socketio, paho.mqtt, requests' >/dev/null 2>&1; then
    echo "setup: installing Python packages into $VENV: ${PIP_PACKAGES[*]}" >&2
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}" </dev/null
  fi
fi
echo "setup ($MODE): ok" >&2
