"""The history store with real files and real faults: the real agent (`voltwatch run --fake
...`), its real SQLite file, read back with Python's sqlite3, and filesystems mounted for the
test (tmpfs, ext4 on a loop device) that are made read-only or full under it.

- `Lab` (conftest's `lab` fixture): starts agents (`lab.agent(...)`), /ws recorders
  (`lab.recorder(agent)`) and mounts (`lab.tmpfs(dir)`, `lab.ext4(dir)`); its teardown stops
  recorders, then agents, then unmounts and detaches loop devices, whatever the test did.
- `HistoryAgent`: agentkit's Agent plus status, JSON and flush waiting (`wait_writes`).
- `WsRecorder`: a `websockets` client on /ws in a thread of its own, keeping every
  `anomaly_result` it receives.
- `Buckets`: results per second (count, sum, min, max, anomalies), as the `seconds` table
  keeps them.

Tests wait for events (a flush: `history.writes` growing; a result on /ws), never for time.
"""
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import agentkit  # noqa: E402
from agentkit import EVENT_TIMEOUT, wait_until  # noqa: E402


class HistoryAgent(agentkit.Agent):
    """`voltwatch run --fake SCENARIO --data-dir DIR` with the helpers these tests need."""

    def json(self, path):
        status, _, body = self.get(path)
        assert status == 200, f"GET {path}: {status} {body[:300]!r}"
        return json.loads(body)

    def status(self):
        return self.json("/api/status")

    def history_status(self):
        return self.status()["history"]

    @property
    def db_path(self):
        return os.path.join(self.data_dir, "history.sqlite")

    def wait_writes(self, more=1, after=None, timeout=EVENT_TIMEOUT):
        """Waits until the store has been written `more` times after `after` writes (default:
        the count now); returns the history status then."""
        start = self.history_status()["writes"] if after is None else after
        seen = {}

        def done():
            seen["h"] = self.history_status()
            return seen["h"]["writes"] >= start + more
        assert wait_until(done, timeout), f"no flush of the store: {seen.get('h')}\n{self.log_text()[-2000:]}"
        return seen["h"]

    def wait_state(self, state, timeout=EVENT_TIMEOUT):
        """Waits until `history.state` is `state`; returns the history status then."""
        seen = {}

        def done():
            seen["h"] = self.history_status()
            return seen["h"]["state"] == state
        assert wait_until(done, timeout), f"history never became {state}: {seen.get('h')}\n{self.log_text()[-2000:]}"
        return seen["h"]

    def kill9(self):
        """SIGKILL: no shutdown, no last flush. Returns the kill time, epoch ms."""
        killed_at = time.time()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        return int(killed_at * 1000)


class WsRecorder:
    """Every `anomaly_result` /ws delivers, kept as it arrives (in a thread of its own, so a
    test can wait, kill or remount while it records)."""

    def __init__(self, agent):
        self.results = []
        self.missed = 0
        self.error = None
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.closed = threading.Event()
        self._loop = None
        self._ws = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run(agent.base)), daemon=True)
        self._thread.start()
        assert self._connected.wait(EVENT_TIMEOUT) and self._ws is not None, f"/ws did not connect: {self.error}"

    async def _run(self, base):
        self._loop = asyncio.get_running_loop()
        try:
            async with websockets.connect(f"ws://{base}/ws", max_size=None, ping_interval=None) as ws:
                self._ws = ws
                self._connected.set()
                async for message in ws:
                    event = json.loads(message)
                    if event["event"] == "anomaly_result" and not event["data"]["device"].startswith("app"):
                        with self._lock:
                            self.results.append(event["data"])
                    elif event["event"] == "missed":
                        self.missed += event["data"]["count"]
        except websockets.ConnectionClosed:
            pass
        except Exception as error:  # noqa: BLE001 (reported by the test that reads it)
            self.error = error
        finally:
            self._connected.set()
            self.closed.set()

    def count(self):
        with self._lock:
            return len(self.results)

    def snapshot(self):
        with self._lock:
            return list(self.results)

    def wait_count(self, n, timeout=EVENT_TIMEOUT):
        assert wait_until(lambda: self.count() >= n, timeout), \
            f"/ws delivered {self.count()} results, waited for {n} (error: {self.error})"

    def wait_more(self, n, timeout=EVENT_TIMEOUT):
        """Waits for `n` results more than received now: live data is flowing."""
        self.wait_count(self.count() + n, timeout)

    def close(self):
        if self._ws is not None and self._loop is not None and not self.closed.is_set():
            try:
                asyncio.run_coroutine_threadsafe(self._ws.close(), self._loop).result(5)
            except Exception:  # noqa: BLE001 (already closing)
                pass
        self._thread.join(5)


def ms(timestamp):
    """A result's `timestamp` (epoch seconds with milliseconds) as epoch milliseconds."""
    return int(round(timestamp * 1000))


class Buckets:
    """Results per second as the `seconds` table keeps them: {bucket start ms: [count, sum,
    min, max, anomalies]}."""

    def __init__(self, results):
        self.rows = {}
        for r in results:
            t = ms(r["timestamp"])
            row = self.rows.setdefault(t - t % 1000, [0, 0.0, float("inf"), float("-inf"), 0])
            row[0] += 1
            row[1] += r["voltage"]
            row[2] = min(row[2], r["voltage"])
            row[3] = max(row[3], r["voltage"])
            row[4] += 1 if r["is_anomaly"] else 0


def stored_seconds(db_path, stream="fake", table="seconds"):
    """{t: [count, sum, min, max, anomalies]} of one stream, read with Python's sqlite3 (which
    reads the WAL a killed writer left, as the agent would on its next start). Read-only: the
    files stay as the agent left them (a read-write connection closing last would merge and
    delete the WAL)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {t: [n, s, lo, hi, a] for t, n, s, lo, hi, a in db.execute(
            f"SELECT t, count, sum, min, max, anomalies FROM {table} WHERE stream = ? ORDER BY t", (stream,))}
    finally:
        db.close()  # (a `with` block would only commit, and keep the file open)


def run(*args, check=True):
    """Runs a command; a failure says what failed (mounting is part of the test, so it fails the
    test loudly, never skips it)."""
    done = subprocess.run(args, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"`{' '.join(args)}` failed ({done.returncode}): {done.stderr.strip()}")
    return done


class Lab:
    """What one test started, torn down in the right order whatever happened."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.agents = []
        self.recorders = []
        self.mounts = []
        self.loops = []

    def agent(self, *extra_args, scenario="normal", data_dir=None, **kwargs):
        a = HistoryAgent(*extra_args, scenario=scenario, data_dir=data_dir, **kwargs)
        self.agents.append(a)
        return a

    def recorder(self, agent):
        r = WsRecorder(agent)
        self.recorders.append(r)
        return r

    def data_dir(self, name="data"):
        path = self.tmp_path / name
        path.mkdir(exist_ok=True)
        return path

    def tmpfs(self, path, size="4m"):
        """A tmpfs of `size` mounted at `path` (root only, as these tests run)."""
        run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path))
        self.mounts.append(str(path))

    def ext4(self, path, size_mb=16):
        """An ext4 filesystem on a loop device, mounted at `path` with errors=remount-ro (the
        default of most distributions' root filesystems, and what an SD card's filesystem does
        after an I/O error). Returns the loop device."""
        image = self.tmp_path / "ext4.img"
        with open(image, "wb") as f:
            f.truncate(size_mb * 1024 * 1024)
        loop = run("losetup", "--find", "--show", str(image)).stdout.strip()
        self.loops.append(loop)
        run("mkfs.ext4", "-q", "-F", loop)
        run("mount", "-o", "errors=remount-ro", loop, str(path))
        self.mounts.append(str(path))
        return loop

    def unmount(self, path, timeout=EVENT_TIMEOUT):
        """Unmounts `path`, waiting while a file on it is still open (an agent's flush)."""
        last = {}

        def done():
            last["r"] = run("umount", str(path), check=False)
            return last["r"].returncode == 0
        assert wait_until(done, timeout, interval=0.05), f"cannot unmount {path}: {last['r'].stderr.strip()}"
        self.mounts.remove(str(path))

    def teardown(self):
        for r in self.recorders:
            r.close()
        for a in self.agents:
            if a.proc.poll() is None:
                a.proc.kill()
                a.proc.wait()
            if not a.log.closed:
                a.log.close()
        for path in reversed(self.mounts):
            if run("umount", path, check=False).returncode != 0:
                run("umount", "-l", path, check=False)
        for loop in self.loops:
            run("losetup", "-d", loop, check=False)


def write_junk(path, offset, length):
    """Overwrites `length` bytes of `path` from `offset` with a pattern no SQLite page holds."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(bytes([0x5A]) * length)


def files_of(db_path):
    """The database and its WAL and shared-memory files, those that exist."""
    return [p for p in (db_path, db_path + "-wal", db_path + "-shm") if os.path.exists(p)]

