"""The Debian package, installed on this machine as a gateway owner would (`apt install
./voltwatch_<version>_<arch>.deb` is dpkg underneath), then purged: the files, modes, user,
conffile and token are right, the binary loads the Swift runtime the package brings (not a
toolchain's), it runs, it requires the token, a changed configuration survives a reinstall, and
lintian finds no error.

The package comes from $VOLTWATCH_DEB (scripts/test.sh makes it from the build the tests ran) or
is built here with scripts/package-deb.sh (a release build: minutes). Needs root, as dpkg does."""
import grp
import json
import os
import pathlib
import pwd
import stat
import subprocess
import urllib.error
import urllib.request

import pytest

from agentkit import Agent

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    given = os.environ.get("VOLTWATCH_DEB")
    if given:
        return pathlib.Path(given)
    out = tmp_path_factory.mktemp("deb")
    built = subprocess.run(["bash", str(ROOT / "scripts/package-deb.sh"), "--out", str(out)], capture_output=True, text=True,
                           timeout=1800)
    assert built.returncode == 0, built.stderr[-3000:]
    return pathlib.Path(built.stdout.strip().splitlines()[-1])


@pytest.fixture
def installed(deb):
    assert os.geteuid() == 0, "installing a package needs root (CI and the test machine run as root)"
    assert subprocess.run(["dpkg-query", "-W", "voltwatch"], capture_output=True).returncode != 0, \
        "voltwatch is already installed here: this test installs and purges it, remove it first"
    done = subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True, timeout=300)
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        yield done.stdout + done.stderr
    finally:
        subprocess.run(["dpkg", "--purge", "voltwatch"], capture_output=True, timeout=300)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_lintian_finds_no_error(deb):
    report = subprocess.run(["lintian", "--tag-display-limit", "0", str(deb)], capture_output=True, text=True, timeout=600)
    errors = [line for line in report.stdout.splitlines() if line.startswith("E:")]
    assert not errors, report.stdout


def test_the_package_installs_a_secured_service_and_purges_clean(deb, installed):
    for path, want in {"/usr/bin/voltwatch": 0o755, "/lib/systemd/system/voltwatch.service": 0o644,
                       "/lib/udev/rules.d/99-voltwatch.rules": 0o644, "/etc/voltwatch/model_config.json": 0o644}.items():
        assert os.path.isfile(path), path
        assert mode(path) == want, (path, oct(mode(path)))
    conffiles = subprocess.run(["dpkg-query", "-W", "-f", "${Conffiles}", "voltwatch"], capture_output=True, text=True).stdout
    assert "/etc/voltwatch/model_config.json" in conffiles
    user = pwd.getpwnam("voltwatch")
    assert user.pw_shell.endswith("nologin") or user.pw_shell.endswith("false")
    token_stat = os.stat("/etc/voltwatch/token")
    assert mode("/etc/voltwatch/token") == 0o640 and token_stat.st_uid == 0
    assert grp.getgrgid(token_stat.st_gid).gr_name == "voltwatch"
    assert "sudo voltwatch token" in installed
    unit = pathlib.Path("/lib/systemd/system/voltwatch.service").read_text()
    assert "ExecStart=/usr/bin/voltwatch run " in unit and "--token-file /etc/voltwatch/token" in unit

    # No Swift toolchain needed on the gateway: every Swift library comes from the package's own
    # directory (this machine has a toolchain, and the binary must not reach for it), and every
    # other one from the system.
    libraries = subprocess.run(["ldd", "/usr/bin/voltwatch"], capture_output=True, text=True).stdout
    assert "not found" not in libraries, libraries
    swift = [line for line in libraries.splitlines() if "swift" in line.lower() or "Foundation" in line]
    assert any("libswiftCore.so" in line for line in swift) and any("libFoundation" in line for line in swift), libraries
    shipped = subprocess.run(["dpkg-query", "-L", "voltwatch"], capture_output=True, text=True).stdout.split()
    for line in swift:
        assert "=> /usr/lib/voltwatch/" in line, line
        assert line.split("=>")[1].split()[0] in shipped, f"{line}: not a file of the package"
    version = subprocess.run(["/usr/bin/voltwatch", "--version"], capture_output=True, text=True, timeout=30)
    assert version.returncode == 0 and version.stdout.strip()
    check = subprocess.run(["/usr/bin/voltwatch", "check-config", "/etc/voltwatch/model_config.json"], capture_output=True,
                           text=True, timeout=30)
    assert check.returncode == 0, check.stderr

    # The installed agent requires the generated token.
    token = pathlib.Path("/etc/voltwatch/token").read_text().strip()
    agent = Agent("--token-file", "/etc/voltwatch/token", binary="/usr/bin/voltwatch")
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(agent.url("/api/status"), timeout=10)
        assert refused.value.code == 401
        request = urllib.request.Request(agent.url("/api/status"), headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.loads(answer.read())["status"] == "ok"
    finally:
        agent.stop()

    # A changed configuration survives a reinstall (a conffile), and so does the token.
    config = pathlib.Path("/etc/voltwatch/model_config.json")
    config.write_text(config.read_text().replace('"anomaly_threshold": 0.7', '"anomaly_threshold": 0.8'))
    again = subprocess.run(["dpkg", "-i", "--force-confold", str(deb)], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert '"anomaly_threshold": 0.8' in config.read_text()
    assert pathlib.Path("/etc/voltwatch/token").read_text().strip() == token

    # Purge: nothing of it is left.
    purged = subprocess.run(["dpkg", "--purge", "voltwatch"], capture_output=True, text=True, timeout=300)
    assert purged.returncode == 0, purged.stderr
    for path in ["/usr/bin/voltwatch", "/usr/lib/voltwatch", "/etc/voltwatch", "/lib/systemd/system/voltwatch.service",
                 "/var/lib/voltwatch"]:
        assert not os.path.exists(path), path
    with pytest.raises(KeyError):
        pwd.getpwnam("voltwatch")
