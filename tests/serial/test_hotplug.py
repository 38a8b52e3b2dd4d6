"""Hot-plug through umockdev uevents: the agent's netlink monitor sees a board come and go,
also under the systemd unit's seccomp filter."""
import pathlib
import os
import shutil
import subprocess

import pytest

import unitfilter  # tests/ is on sys.path through conftest.py

HERE = pathlib.Path(__file__).resolve().parent


def gi_umockdev_available():
    if shutil.which("umockdev-wrapper") is None or not os.path.exists("/usr/bin/python3"):
        return False
    probe = subprocess.run(
        ["/usr/bin/python3", "-c", "import gi; gi.require_version('UMockdev', '1.0'); from gi.repository import UMockdev"],
        capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not gi_umockdev_available(), reason="needs umockdev-wrapper, python3-gi and gir1.2-umockdev-1.0")
@pytest.mark.parametrize("sandbox", ["none", "the unit's seccomp filter"])
def test_udev_monitor_sees_add_and_remove(voltwatch, sandbox, tmp_path):
    extra = []
    if sandbox != "none":
        # As under systemd/voltwatch.service: discovery and the monitor must work with the
        # unit's system calls. (umockdev stands a Unix socket in for the netlink one, so the
        # unit's AF_NETLINK rule is checked in tests/service/test_syscall_filter.py instead.)
        program = tmp_path / "unit.bpf"
        program.write_bytes(unitfilter.program())
        extra = [str(program)]
    run = subprocess.run(
        ["umockdev-wrapper", "/usr/bin/python3", str(HERE / "hotplug_driver.py"), voltwatch, *extra],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
