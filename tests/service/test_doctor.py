"""`voltwatch doctor` on made-up hardware: umockdev plays the Uno and the CH340 board of
tests/serial/devices.umockdev (their nodes are root-only, mode 0600), and the doctor runs as
an unprivileged user, as a person on the gateway would. Also: a port held by another process
is named, and a process called ModemManager is noticed."""
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile

import pytest

from servicekit import ROOT, voltwatch  # noqa: F401 (fixtures)
from agentkit import wait_until  # noqa: E402 (servicekit puts tests/ on the path)

DEVICES = ROOT / "tests" / "serial" / "devices.umockdev"
needs_umockdev = pytest.mark.skipif(shutil.which("umockdev-run") is None, reason="umockdev is not installed")
needs_root = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv to act as nobody")


def doctor(voltwatch, *args, as_nobody=False, umockdev=True, rules_dir=None):
    command = [voltwatch, "doctor", "--udev-rules-dir", rules_dir or "/nonexistent/voltwatch-rules.d", *args]
    if as_nobody:
        # umockdev-run (as root) makes the mocked nodes root-only, mode 0600, as the kernel
        # does without a udev rule; opening the testbed's directories lets nobody see them.
        inner = " ".join(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command])
        command = ["sh", "-c", 'find "$UMOCKDEV_DIR" -type d -exec chmod a+rx {} + && exec ' + inner]
    if umockdev:
        command = ["umockdev-run", "-d", str(DEVICES), "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@needs_umockdev
@needs_root
def test_root_only_nodes_and_no_rule_say_install_the_rule(voltwatch):
    out = doctor(voltwatch, as_nobody=True)
    assert out.returncode == 1, out.stdout + out.stderr
    text = out.stdout
    assert "PROBLEM /dev/ttyACM0: you (nobody) cannot open it (rw------- root:root)" in text, text
    assert "PROBLEM /dev/ttyUSB0: you (nobody) cannot open it" in text
    assert "fix: install the udev rule" in text
    assert "warning udev rule: 99-voltwatch.rules is not installed" in text


@needs_umockdev
def test_root_with_the_rule_installed_is_all_good(voltwatch, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("as a normal user the mocked root-only nodes are a (correct) problem")
    shutil.copy(ROOT / "systemd" / "99-voltwatch.rules", tmp_path / "99-voltwatch.rules")
    out = doctor(voltwatch, rules_dir=str(tmp_path))
    text = out.stdout
    assert "ok      /dev/ttyACM0: 2341:0043 Arduino Uno: readable by root" in text, text
    assert "a known board, picked by auto-discovery" in text
    assert "ok      udev rule: installed" in text
    if "ModemManager" not in text and "brltty" not in text:
        assert out.returncode == 0 and "All good." in text


def test_a_held_port_is_named(voltwatch):
    master, slave = os.openpty()
    try:
        path = os.ttyname(slave)
        out = doctor(voltwatch, "--device", path, umockdev=False)
        assert f"{path}: busy: pid {os.getpid()}" in out.stdout, out.stdout
        assert f"sudo kill {os.getpid()}" in out.stdout
        assert out.returncode == 1
    finally:
        os.close(master)
        os.close(slave)


def test_modemmanager_running_is_noticed(voltwatch, tmp_path):
    fake = tmp_path / "ModemManager"
    shutil.copy(shutil.which("sleep"), fake)
    process = subprocess.Popen([str(fake), "30"])
    try:
        # Doctor looks for the name in /proc: wait until the copy has exec'd and carries it.
        assert wait_until(lambda: pathlib.Path(f"/proc/{process.pid}/comm").read_text().strip() == "ModemManager")
        out = doctor(voltwatch, umockdev=False)
        assert f"warning ModemManager: running (pid {process.pid})" in out.stdout, out.stdout
        assert "systemctl disable --now ModemManager" in out.stdout
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
