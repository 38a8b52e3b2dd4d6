"""A store that cannot be written (issue 19): read-only, damaged, on a full filesystem. The agent
stays up, live results keep flowing over /ws, `/api/status`'s `history` says why, and once the
cause is removed the agent recovers by itself, with the rows it kept in memory meanwhile.

Real faults on real filesystems mounted for the test (the tests run as root): a tmpfs of a few
MB filled with `dd`, an ext4 filesystem on a loop device that the kernel turns read-only after
an error (as an SD card's does), bytes of the file overwritten. Mounting is part of the test:
where it is impossible the test fails, it never skips.

Why the read-only case uses ext4 and not `mount -o remount,ro` of a tmpfs: Linux refuses to
remount a filesystem read-only while a file on it is open for writing (EBUSY), and the
agent holds its store open. A filesystem goes read-only under a running program only when the
kernel does it, after an error; `/sys/fs/ext4/<dev>/trigger_fs_error` is that error, made on
purpose. The tmpfs remount is used where it works: while the agent is stopped.

The agent's data dir is a directory inside the mount, not the mount point itself, so that while
a filesystem is unmounted for repair the agent cannot start a store in the bare mount point.
"""
import os
import shutil
import time

import pytest

from historykit import Buckets, files_of, ms, run, stored_seconds, wait_until, write_junk


def first_full_second(client):
    t = ms(client.snapshot()[0]["timestamp"])
    return t - t % 1000 + 1000


def assert_store_holds(db_path, client, from_ms, to_ms):
    """Every complete second from `from_ms` to `to_ms` that the client received is in the store
    with the same count: nothing received while the store failed was lost."""
    received = Buckets(client.snapshot()).rows
    stored = stored_seconds(db_path)
    seconds = [t for t in received if from_ms <= t and t + 1000 <= to_ms]
    assert len(seconds) >= 2, (from_ms, to_ms, sorted(received))
    missing = {t: (received[t][0], stored.get(t, [0])[0]) for t in seconds if stored.get(t, [0])[0] != received[t][0]}
    assert not missing, f"seconds whose stored count differs from what /ws delivered (received, stored): {missing}"


def stays_failing(agent, client):
    """While the store fails: live results keep flowing, the agent keeps serving, and the rows
    wait in memory. Waits for two more failed flushes (so several seconds are held in memory)
    and 30 more results; returns the history status then."""
    failures = agent.history_status()["failures"]
    client.wait_more(30)
    assert wait_until(lambda: agent.history_status()["failures"] >= failures + 2)
    health = agent.history_status()
    assert health["state"] == "failing" and health["pending_rows"] > 0, health
    assert agent.proc.poll() is None and agent.status()["status"] == "ok"
    return health


def wait_recovered(agent):
    """Waits for the state to be ok again, then for a flush that began after that; returns the
    start of the second the state was seen ok in: every second before it is in the store."""
    agent.wait_state("ok")
    ok_ms = int(time.time() * 1000)
    health = agent.wait_writes(2)
    assert health["state"] == "ok" and health["pending_rows"] == 0 and health["dropped_rows"] == 0, health
    return ok_ms - ok_ms % 1000


def mounted_data_dir(lab, mount):
    """`mount` the test's mount point, and the agent's data dir a directory inside it: while the
    filesystem is unmounted (to repair it) the agent cannot start a store in the bare mount
    point and go on writing there, hidden, once the filesystem is mounted over it."""
    point = lab.data_dir("mnt")
    result = mount(point)
    data = point / "data"
    data.mkdir()
    return point, data, result


def test_filesystem_turned_read_only_under_the_running_agent(lab):
    point, data, loop = mounted_data_dir(lab, lab.ext4)
    agent = lab.agent(data_dir=data)
    client = lab.recorder(agent)
    client.wait_count(1)
    agent.wait_writes(2)

    # The kernel's reaction to a disk error with errors=remount-ro: the filesystem is read-only
    # from now on, under the agent's open files.
    with open(f"/sys/fs/ext4/{os.path.basename(loop)}/trigger_fs_error", "w") as f:
        f.write("voltwatch history test\n")
    health = agent.wait_state("failing")
    assert agent.db_path in health["error"] and "read-only" in health["error"], health
    assert health["failing_since"] is not None
    stays_failing(agent, client)
    assert "read-only" in agent.log_text()

    # Repairing it means unmounting it, so whatever has files there stops first (the agent
    # keeps more than history in its data dir). A stop while the store fails is prompt and
    # clean, and the log says what could not be written.
    agent.stop()
    assert agent.proc.returncode == 0, agent.log_text()[-2000:]
    assert "never written" in agent.log_text()
    lab.unmount(point)
    assert run("e2fsck", "-fy", loop, check=False).returncode in (0, 1)  # 1: errors corrected
    run("mount", "-o", "errors=remount-ro", loop, str(point))
    lab.mounts.append(str(point))

    # Started again on the repaired filesystem, history is written as before. (What the kernel
    # had not written to the disk when the error came is gone: the filesystem lost it.)
    again = lab.agent(data_dir=data)
    client = lab.recorder(again)
    client.wait_count(35)
    written_ms = int(time.time() * 1000)
    health = again.wait_writes(2)  # a flush that began after written_ms
    assert health["state"] == "ok" and health["failures"] == 0, health
    assert_store_holds(again.db_path, client, first_full_second(client), written_ms - written_ms % 1000)


def test_started_on_a_read_only_data_dir_then_remounted_read_write(lab):
    point, data, _ = mounted_data_dir(lab, lab.tmpfs)
    before = lab.agent(data_dir=data)
    before.wait_writes(2)
    before.stop()
    kept = stored_seconds(before.db_path)
    run("mount", "-o", "remount,ro", str(point))

    agent = lab.agent(data_dir=data)
    client = lab.recorder(agent)
    client.wait_count(1)
    health = agent.wait_state("failing")
    assert agent.db_path in health["error"] and "read-only" in health["error"], health
    stays_failing(agent, client)
    # What the store holds can still be read.
    first, last = min(kept), max(kept)
    points = agent.json(f"/api/history?device=fake&from={first / 1000}&to={last / 1000 + 1}&step=1")["points"]
    assert {int(p[0] * 1000): p[4] for p in points} == {t: row[0] for t, row in kept.items()}

    run("mount", "-o", "remount,rw", str(point))
    recovered_ms = wait_recovered(agent)
    assert_store_holds(agent.db_path, client, first_full_second(client), recovered_ms)
    # The history from before is still there.
    stored = stored_seconds(agent.db_path)
    assert all(stored.get(t, [0])[0] >= row[0] for t, row in kept.items())


@pytest.mark.parametrize("damage", ["header", "pages"])
def test_damaged_store_then_moved_aside(lab, damage):
    data = lab.data_dir()
    before = lab.agent(scenario="spikes", data_dir=data)
    before.wait_writes(2)
    before.stop()
    db = before.db_path
    # A clean stop merges the WAL into the file: damaging the file damages all of it.
    assert not os.path.exists(db + "-wal") or os.path.getsize(db + "-wal") == 0
    size = os.path.getsize(db)
    if damage == "header":
        write_junk(db, 0, 8192)  # the header and the first pages
    else:
        write_junk(db, 4096, size - 4096)  # every page after the first: the tables themselves

    agent = lab.agent(data_dir=data)
    client = lab.recorder(agent)
    client.wait_count(1)
    health = agent.wait_state("failing")
    assert db in health["error"] and "damaged" in health["error"], health
    stays_failing(agent, client)

    # The fix the error names: move it aside; the agent starts a new store with what it kept.
    aside = data / "damaged"
    aside.mkdir()
    for path in files_of(db):
        shutil.move(path, aside / os.path.basename(path))
    recovered_ms = wait_recovered(agent)
    assert_store_holds(db, client, first_full_second(client), recovered_ms)


def test_full_filesystem_then_space_freed(lab):
    point, data, _ = mounted_data_dir(lab, lambda path: lab.tmpfs(path, size="4m"))
    agent = lab.agent(data_dir=data)
    client = lab.recorder(agent)
    client.wait_count(1)
    agent.wait_writes(2)

    filler = point / "filler"
    done = run("dd", "if=/dev/zero", f"of={filler}", "bs=64k", check=False)
    assert "No space left on device" in done.stderr, done.stderr
    health = agent.wait_state("failing")
    assert agent.db_path in health["error"] and "full" in health["error"], health
    stays_failing(agent, client)

    filler.unlink()
    recovered_ms = wait_recovered(agent)
    # Nothing lost: every second from the client's first to the recovery is in the store.
    assert_store_holds(agent.db_path, client, first_full_second(client), recovered_ms)
