#!/usr/bin/env bash
# Installs everything voltwatch needs to build, run and test on a fresh Debian machine:
# the Debian packages (libudev for discovery, umockdev/simavr/avr-gcc/chromium/socat for the
# real-part tests, tmux for the interactive calibrate test, musl-gcc for scripts/portability.sh, libmosquitto
# and the mosquitto broker for MQTT publishing and its tests) and the Python clients the end-to-end
# tests drive the agent with.
# Idempotent and non-interactive, so CI (no stdin) and a person get the same result.
set -euo pipefail

APT_PACKAGES=(
  libudev-dev pkg-config
  umockdev libumockdev-dev python3-gi gir1.2-umockdev-1.0
  simavr libsimavr-dev libelf-dev
  gcc-avr avr-libc arduino-mk
  chromium chromium-driver
  socat procps lsof iproute2 tmux
  musl-tools
  systemd
  libmosquitto-dev mosquitto mosquitto-clients openssl
)
PIP_PACKAGES=(pytest websockets "python-socketio[client]" selenium schemathesis flask-socketio paho-mqtt)

need_apt=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${need_apt[*]}" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" </dev/null >/dev/null
fi

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import pytest, websockets, socketio, selenium, schemathesis, flask_socketio, paho.mqtt' >/dev/null 2>&1; then
  echo "setup: installing Python packages: ${PIP_PACKAGES[*]}" >&2
  "$PY" -m pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}" </dev/null
fi
echo "setup: ok" >&2
