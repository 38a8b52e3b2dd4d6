"""systemd/99-voltwatch.rules matches exactly the boards discovery picks
(Sources/VoltSerial/Discovery/KnownBoards.swift), gives them group dialout and mode 0660,
tells ModemManager to leave them alone and links them under /dev/voltwatch/.

systemd 252 has no `udevadm verify` (it came in 253), so the rules are parsed here with
udev's syntax (KEY[{attr}]OP"value", comma separated) and every line must parse."""
import re

from servicekit import ROOT

RULES = ROOT / "systemd" / "99-voltwatch.rules"
KNOWN = ROOT / "Sources" / "VoltSerial" / "Discovery" / "KnownBoards.swift"
TOKEN = re.compile(r'\s*([A-Z_]+)(?:\{([^}]+)\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(,|$)')
KEYS = {"ACTION", "SUBSYSTEM", "SUBSYSTEMS", "KERNEL", "ATTRS", "ENV", "GOTO", "LABEL", "GROUP", "MODE", "SYMLINK"}


def parse(line):
    tokens, pos = [], 0
    while pos < len(line):
        match = TOKEN.match(line, pos)
        assert match, f"cannot parse {line[pos:]!r} in {line!r}"
        key, attr, op, value, _ = match.groups()
        assert key in KEYS, f"unexpected key {key} in {line!r}"
        tokens.append((key, attr, op, value))
        pos = match.end()
    return tokens


def rules():
    for line in RULES.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield parse(line)


def known_boards():
    ids = set()
    for vendor, product in re.findall(r"Entry\(vendorID: 0x([0-9A-Fa-f]{4}), productID: (nil|0x[0-9A-Fa-f]{4})", KNOWN.read_text()):
        ids.add((vendor.lower(), None if product == "nil" else product[2:].lower()))
    return ids


def rule_boards():
    ids = set()
    for tokens in rules():
        attrs = {attr: value for key, attr, op, value in tokens if key == "ATTRS" and op == "=="}
        if "idVendor" in attrs:
            assert any(k == "ENV" and a == "VOLTWATCH_BOARD" for k, a, _, _ in tokens)
            ids.add((attrs["idVendor"], attrs.get("idProduct")))
    return ids


def test_every_line_parses_and_gotos_have_their_label():
    all_rules = list(rules())
    labels = {v for tokens in all_rules for k, _, _, v in tokens if k == "LABEL"}
    gotos = {v for tokens in all_rules for k, _, _, v in tokens if k == "GOTO"}
    assert gotos == labels == {"voltwatch_end"}


def test_the_rule_and_discovery_know_the_same_boards():
    known = known_boards()
    assert len(known) >= 15
    assert {("2341", None), ("2a03", None), ("1a86", "7523"), ("0403", "6001"), ("10c4", "ea60")} <= known
    assert rule_boards() == known


def test_known_boards_get_group_mode_modemmanager_ignore_and_a_link():
    assignments = [t for tokens in rules() for t in tokens if t[2] in ("=", "+=")]
    assert ("GROUP", None, "=", "dialout") in assignments
    assert ("MODE", None, "=", "0660") in assignments
    assert ("ENV", "ID_MM_DEVICE_IGNORE", "=", "1") in assignments
    links = [v for k, _, op, v in assignments if k == "SYMLINK"]
    assert "voltwatch/$env{VOLTWATCH_BOARD}-$env{ID_SERIAL_SHORT}" in links
    assert "voltwatch/$env{VOLTWATCH_BOARD}-$env{ID_PATH_TAG}" in links


def test_only_tty_add_and_change_events_of_acm_and_usb_serial_nodes():
    first = list(rules())[:3]
    assert ("ACTION", None, "==", "remove") in first[0]
    assert ("SUBSYSTEM", None, "!=", "tty") in first[1]
    assert ("KERNEL", None, "!=", "ttyACM[0-9]*|ttyUSB[0-9]*") in first[2]
