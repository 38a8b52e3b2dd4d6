"""scripts/install.sh into a DESTDIR staging folder: the expected files land with the
expected modes, the unit points at the PREFIX's binary, a changed configuration is never
overwritten, and scripts/uninstall.sh reverses it (keeping changed config and recordings
unless --purge). --binary skips the release build, so this runs in seconds."""
import os
import pathlib
import stat
import subprocess

import pytest

from servicekit import ROOT, voltwatch  # noqa: F401 (fixtures)


def run(script, stage, *args, prefix="/usr/local"):
    env = {**os.environ, "DESTDIR": str(stage), "PREFIX": prefix}
    out = subprocess.run(["bash", str(ROOT / "scripts" / script), *args], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def stage(tmp_path):
    return tmp_path / "stage"


def test_install_lays_out_the_files_with_their_modes(voltwatch, stage):
    out = run("install.sh", stage, "--binary", voltwatch)
    expected = {
        "usr/local/bin/voltwatch": 0o755,
        "etc/systemd/system/voltwatch.service": 0o644,
        "etc/udev/rules.d/99-voltwatch.rules": 0o644,
        "etc/voltwatch/model_config.json": 0o644,
        "usr/local/share/voltwatch/model_config.json": 0o644,
        "usr/local/share/doc/voltwatch/service.md": 0o644,
    }
    for rel, want in expected.items():
        path = stage / rel
        assert path.is_file(), f"missing {rel}"
        assert mode(path) == want, f"{rel}: {oct(mode(path))}"
    assert mode(stage / "etc/voltwatch") == 0o755
    assert (stage / "etc/voltwatch/model_config.json").read_bytes() == (ROOT / "config/model_config.json").read_bytes()
    assert "no user created" in out
    assert "systemctl enable" not in out  # nothing to enable inside a staging folder


def test_the_unit_points_at_the_prefix_binary(voltwatch, stage):
    run("install.sh", stage, "--binary", voltwatch, prefix="/usr")
    unit = (stage / "etc/systemd/system/voltwatch.service").read_text()
    assert "ExecStart=/usr/bin/voltwatch run " in unit
    assert "/usr/local/bin" not in unit
    assert (stage / "usr/bin/voltwatch").is_file()


def test_a_changed_config_is_kept_and_the_new_default_put_beside_it(voltwatch, stage):
    run("install.sh", stage, "--binary", voltwatch)
    config = stage / "etc/voltwatch/model_config.json"
    mine = config.read_text().replace('"anomaly_threshold": 0.7', '"anomaly_threshold": 0.8')
    config.write_text(mine)
    out = run("install.sh", stage, "--binary", voltwatch)
    assert config.read_text() == mine
    assert (stage / "etc/voltwatch/model_config.json.new").read_bytes() == (ROOT / "config/model_config.json").read_bytes()
    assert "model_config.json.new" in out and "stays" in out


def test_an_untouched_older_default_is_updated(voltwatch, stage):
    run("install.sh", stage, "--binary", voltwatch)
    config = stage / "etc/voltwatch/model_config.json"
    old_default = config.read_text().replace('"window_size": 50', '"window_size": 40')
    config.write_text(old_default)
    (stage / "usr/local/share/voltwatch/model_config.json").write_text(old_default)
    out = run("install.sh", stage, "--binary", voltwatch)
    assert config.read_bytes() == (ROOT / "config/model_config.json").read_bytes()
    assert not (stage / "etc/voltwatch/model_config.json.new").exists()
    assert "updated to the new default" in out


def test_uninstall_reverses_but_keeps_changed_config_and_recordings(voltwatch, stage):
    run("install.sh", stage, "--binary", voltwatch)
    config = stage / "etc/voltwatch/model_config.json"
    config.write_text(config.read_text().replace('"anomaly_threshold": 0.7', '"anomaly_threshold": 0.8'))
    recordings = stage / "var/lib/voltwatch/recordings"
    recordings.mkdir(parents=True)
    (recordings / "fake-20250101-00.rec").write_text("1\t$VOLT\n")
    out = run("uninstall.sh", stage)
    for rel in ["usr/local/bin/voltwatch", "etc/systemd/system/voltwatch.service",
                "etc/udev/rules.d/99-voltwatch.rules", "usr/local/share/voltwatch/model_config.json"]:
        assert not (stage / rel).exists(), rel
    assert config.exists() and "kept" in out
    assert (recordings / "fake-20250101-00.rec").exists()

    run("uninstall.sh", stage, "--purge")
    assert not config.exists()
    assert not (stage / "var/lib/voltwatch").exists()
    leftovers = [str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file()]
    assert leftovers == []


def test_uninstall_removes_an_unchanged_default_and_keeps_the_token_until_purge(voltwatch, stage):
    run("install.sh", stage, "--binary", voltwatch)
    out = run("uninstall.sh", stage)
    assert [str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file()] == ["etc/voltwatch/token"]
    assert "kept" in out and "access token" in out
    run("uninstall.sh", stage, "--purge")
    assert [p for p in stage.rglob("*") if p.is_file()] == []


def test_install_makes_a_token_the_unit_requires_and_keeps_it(voltwatch, stage):
    out = run("install.sh", stage, "--binary", voltwatch)
    token_file = stage / "etc/voltwatch/token"
    token = token_file.read_text().strip()
    assert len(token) == 43 and all(c.isalnum() or c in "-_" for c in token), token
    assert mode(token_file) == 0o640, oct(mode(token_file))
    assert "token" in out
    unit = (stage / "etc/systemd/system/voltwatch.service").read_text()
    assert "--token-file /etc/voltwatch/token" in unit
    run("install.sh", stage, "--binary", voltwatch)
    assert token_file.read_text().strip() == token, "a reinstall keeps the token phones sign in with"
    shown = subprocess.run([voltwatch, "token", "--file", str(token_file), "--quiet"], capture_output=True, text=True, timeout=30)
    assert shown.stdout.strip() == token
    rotated = subprocess.run([voltwatch, "token", "--file", str(token_file), "--rotate", "--quiet"], capture_output=True, text=True,
                             timeout=30)
    assert rotated.returncode == 0 and rotated.stdout.strip() != token and token_file.read_text().strip() == rotated.stdout.strip()


def test_the_installed_token_is_required_and_accepted(voltwatch, stage):
    import json
    import urllib.error
    import urllib.request

    from agentkit import Agent
    run("install.sh", stage, "--binary", voltwatch)
    token_file = stage / "etc/voltwatch/token"
    token = token_file.read_text().strip()
    agent = Agent("--token-file", str(token_file), binary=str(stage / "usr/local/bin/voltwatch"))
    try:
        try:
            urllib.request.urlopen(agent.url("/api/status"), timeout=10)
            raise AssertionError("/api/status answered without the token")
        except urllib.error.HTTPError as refused:
            assert refused.code == 401
        request = urllib.request.Request(agent.url("/api/status"), headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.loads(answer.read())["status"] == "ok"
        upload = urllib.request.Request(agent.url("/api/replay?summary=1"), data=b"2.5\n2.5\n", method="POST")
        try:
            urllib.request.urlopen(upload, timeout=10)
            raise AssertionError("an upload was scored without the token")
        except urllib.error.HTTPError as refused:
            assert refused.code == 401
    finally:
        agent.stop()
