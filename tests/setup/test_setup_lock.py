"""scripts/setup.sh on a machine where another package manager holds the dpkg lock (an
automatic update on a fresh gateway): it says so and waits, then goes on; or, when the lock
never comes free, stops with what to do. apt itself is replaced by `echo` here, so nothing is
installed."""
import fcntl
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


def start_setup(lock, wait_seconds=300):
    env = dict(os.environ, SETUP_DPKG_LOCK=str(lock), SETUP_APT_GET="echo apt-get",
               SETUP_FORCE_APT="a-package-to-install", SETUP_LOCK_WAIT_SECONDS=str(wait_seconds))
    return subprocess.Popen(["bash", str(ROOT / "scripts" / "setup.sh"), "--runtime"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def read_until(stream, text):
    seen = []
    for line in stream:
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"never said {text!r}: {''.join(seen)}")


def test_setup_waits_for_the_dpkg_lock_and_says_so(tmp_path):
    lock = tmp_path / "lock-frontend"
    holder = open(lock, "a")
    fcntl.lockf(holder, fcntl.LOCK_EX)
    setup = start_setup(lock)
    try:
        said = read_until(setup.stderr, "waiting up to 5 min")
        assert "another package manager holds the dpkg lock" in said
        assert setup.poll() is None, "setup waits while the lock is held"
    finally:
        fcntl.lockf(holder, fcntl.LOCK_UN)
        holder.close()
    out, err = setup.communicate(timeout=60)
    assert setup.returncode == 0, err
    assert "the dpkg lock is free" in err
    assert "DPkg::Lock::Timeout=300" in out, "apt waits for the lock too, should another apt start in between"
    assert "installing Debian packages: a-package-to-install" in err


def test_setup_gives_up_with_advice_when_the_lock_never_comes_free(tmp_path):
    lock = tmp_path / "lock-frontend"
    holder = open(lock, "a")
    fcntl.lockf(holder, fcntl.LOCK_EX)
    try:
        setup = start_setup(lock, wait_seconds=2)
        out, err = setup.communicate(timeout=60)
    finally:
        holder.close()
    assert setup.returncode == 75
    assert "still held after 2 s" in err and "run this again" in err
    assert "apt-get" not in out
