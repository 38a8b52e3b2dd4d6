"""Discovery through umockdev: recorded devices appear in `voltwatch devices` as they would on
a gateway with an Arduino Uno and a CH340 board plugged in; a mouse and a ttyS0 do not."""
import pathlib
import json
import shutil
import subprocess

import pytest

HERE = pathlib.Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(shutil.which("umockdev-run") is None, reason="umockdev is not installed")


def devices(voltwatch, *args):
    out = subprocess.run(
        ["umockdev-run", "-d", str(HERE / "devices.umockdev"), "--", voltwatch, "devices", "--json", *args],
        check=True, capture_output=True, text=True, timeout=60)
    return {d["path"]: d for d in json.loads(out.stdout)}


def test_known_boards_are_listed_and_picked(voltwatch):
    found = devices(voltwatch)
    assert set(found) == {"/dev/ttyACM0", "/dev/ttyUSB0"}
    uno = found["/dev/ttyACM0"]
    assert (uno["vid"], uno["pid"]) == ("2341", "0043")
    assert uno["serial"] == "85736323838351E0C1A1"
    assert uno["device"] == "arduino-uno-85736323838351E0C1A1"
    assert uno["driver"] == "cdc_acm"
    assert uno["by_id"] == ["/dev/serial/by-id/usb-Arduino__www.arduino.cc__0043_85736323838351E0C1A1-if00"]
    assert uno["picked"] is True
    ch340 = found["/dev/ttyUSB0"]
    assert (ch340["vid"], ch340["pid"]) == ("1a86", "7523")
    assert ch340["serial"] is None
    assert ch340["device"].startswith("ch340-")
    assert ch340["picked"] is True


def test_filters_choose_which_boards_run_would_read(voltwatch):
    found = devices(voltwatch, "--device", "1a86:7523")
    assert found["/dev/ttyUSB0"]["picked"] is True
    assert found["/dev/ttyACM0"]["picked"] is False
    found = devices(voltwatch, "--device", "85736323838351E0C1A1")
    assert found["/dev/ttyACM0"]["picked"] is True
    assert found["/dev/ttyUSB0"]["picked"] is False


def test_table_output_names_the_by_id_link(voltwatch):
    out = subprocess.run(
        ["umockdev-run", "-d", str(HERE / "devices.umockdev"), "--", voltwatch, "devices"],
        check=True, capture_output=True, text=True, timeout=60).stdout
    assert "/dev/ttyACM0" in out and "2341:0043" in out and "by-id:" in out
    assert "event5" not in out and "ttyS0" not in out
