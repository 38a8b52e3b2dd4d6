#!/usr/bin/python3
"""Hot-plug driver: run under `umockdev-wrapper /usr/bin/python3 hotplug_driver.py VOLTWATCH
[SECCOMP_PROGRAM]`.

Creates a umockdev testbed, starts `voltwatch run` as a child (it inherits the testbed), then
plugs an Arduino Uno in (add_device emits an "add" uevent) and pulls it out
(uevent "remove"). Polling is set to ten minutes, so only the agent's libudev netlink monitor
can notice either event. Exits 0 when the agent logged both, 1 otherwise (with its log).
With SECCOMP_PROGRAM (a file holding a program from tests/seccomp.py), the agent runs under
that filter, installed before exec as systemd installs the unit's.
"""
import os
import queue
import subprocess
import sys
import threading
import time

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

SERIAL = "85736323838351E0C1A1"
DEVICE_ID = "arduino-uno-" + SERIAL


def main(voltwatch, seccomp_program=None):
    testbed = UMockdev.Testbed.new()
    preexec = None
    if seccomp_program:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        import seccomp
        with open(seccomp_program, "rb") as f:
            preexec = seccomp.installer(f.read())
    agent = subprocess.Popen(
        [voltwatch, "run", "--no-serve", "--print", "--poll-ms", "600000", "--reset-delay-ms", "0",
         "--backoff-ms", "200", "--log-level", "info"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=preexec)
    lines = queue.Queue()
    log = []
    threading.Thread(target=lambda: [lines.put(l) for l in agent.stderr], daemon=True).start()

    def wait_for(*needles, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                continue
            log.append(line)
            if all(n in line for n in needles):
                return True
        return False

    ok = True
    try:
        if not wait_for("no board found yet"):
            print("agent did not start waiting for a board", file=sys.stderr)
            ok = False
        usb = testbed.add_device(
            "usb", "usb1/1-1", None,
            ["idVendor", "2341", "idProduct", "0043", "serial", SERIAL, "product", "Arduino Uno",
             "manufacturer", "Arduino (www.arduino.cc)"],
            ["DEVTYPE", "usb_device"])
        tty = testbed.add_device(
            "tty", "ttyACM0", usb, [],
            ["DEVNAME", "/dev/ttyACM0", "ID_VENDOR_ID", "2341", "ID_MODEL_ID", "0043", "ID_SERIAL_SHORT", SERIAL])
        if ok and not wait_for("udev add", tty):
            print("the agent's udev monitor did not see the add event", file=sys.stderr)
            ok = False
        if ok and not wait_for("device added", DEVICE_ID):
            print("the agent did not pick the plugged-in board", file=sys.stderr)
            ok = False
        testbed.uevent(tty, "remove")
        if ok and not wait_for("udev remove", tty):
            print("the agent's udev monitor did not see the remove event", file=sys.stderr)
            ok = False
        testbed.remove_device(tty)
        if ok and not wait_for("device removed", DEVICE_ID):
            print("the agent did not drop the unplugged board", file=sys.stderr)
            ok = False
    finally:
        agent.terminate()
        try:
            agent.wait(timeout=15)
        except subprocess.TimeoutExpired:
            agent.kill()
            ok = False
            print("the agent did not stop within 15 s of SIGTERM", file=sys.stderr)
    if agent.returncode not in (0, -15):
        print(f"agent exited with {agent.returncode}", file=sys.stderr)
        ok = False
    if not ok or os.environ.get("HOTPLUG_VERBOSE"):
        sys.stderr.write("".join(log))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
