"""The agent under the unit's system call filter: it serves, pins its event loops, and stops
cleanly; and where `sched_setaffinity` is refused it still serves, unpinned, and says why.
The filter also holds the unit's `RestrictAddressFamilies=` and `MemoryDenyWriteExecute=`,
which systemd makes with seccomp too.

systemd is not PID 1 here, so the filter is built the way systemd builds it: the unit's own
`SystemCallFilter=` lines applied in order (the first an allow list, `~` lines taking calls
out, later plain lines adding them back), each `@group` expanded as this machine's
`systemd-analyze syscall-filter` lists it, every call outside the list failing with the
unit's `SystemCallErrorNumber=` (EPERM), calls of other architectures refused
(`SystemCallArchitectures=native`). It is installed with seccomp in the agent's child process
before exec, as systemd does.

This caught a crash on start: NIO stops the process when a loop thread cannot set its
affinity, and the unit's `~@resources` refused `sched_setaffinity`."""
import asyncio
import errno
import functools
import json
import mmap
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest
import websockets

from servicekit import ROOT, agentkit  # noqa: F401

UNIT = ROOT / "systemd" / "voltwatch.service"
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}


def unit_settings(key):
    """Every value of `key=` in the unit, in file order."""
    return [line.split("=", 1)[1].strip() for line in UNIT.read_text().splitlines() if line.startswith(key + "=")]


@functools.cache
def expand(name):
    """The system calls `name` stands for: itself, or a group's members, nested groups expanded."""
    if not name.startswith("@"):
        return frozenset([name])
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", name],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    members = [line.strip() for line in out.splitlines()[1:] if line.startswith("    ")]
    return frozenset().union(*(expand(m) for m in members if m and not m.startswith("#")))


def allowed_by_unit(drop=()):
    """The names the unit's filter lets through (without those in `drop`)."""
    lines = unit_settings("SystemCallFilter")
    assert lines and not lines[0].startswith("~"), "the unit's filter should start with an allow list"
    allowed = set()
    for line in lines:
        deny = line.startswith("~")
        names = set().union(*(expand(n) for n in line.lstrip("~").split()))
        allowed = allowed - names if deny else allowed | names
    return allowed - set(drop)


@functools.cache
def syscall_numbers():
    """name -> number on this machine, from the C library's <sys/syscall.h>."""
    compiler = shutil.which("cc") or shutil.which("clang")
    assert compiler, "a C compiler (cc or clang) is needed to read the system call numbers"
    out = subprocess.run([compiler, "-E", "-dM", "-include", "sys/syscall.h", "-x", "c", "/dev/null"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    defines = dict(re.findall(r"^#define (__NR\w*) (\S+)$", out, re.M))

    def value(token, depth=0):
        if token.isdigit():
            return int(token)
        return value(defines[token], depth + 1) if token in defines and depth < 5 else None

    numbers = {name[len("__NR_"):]: value(raw) for name, raw in defines.items() if name.startswith("__NR_")}
    return {name: number for name, number in numbers.items() if number is not None}


def argument_checks():
    """The unit's other seccomp-made settings, as systemd builds them:
    `RestrictAddressFamilies=` (socket() of another family fails with EAFNOSUPPORT) and
    `MemoryDenyWriteExecute=yes` (no writable and executable mapping, no mapping made
    executable later)."""
    numbers = syscall_numbers()
    (families,) = unit_settings("RestrictAddressFamilies")
    allowed_families = [int(getattr(socket, name)) for name in families.split()]
    checks = [(numbers["socket"], 0, ("in", allowed_families), errno.EAFNOSUPPORT)]
    assert unit_settings("MemoryDenyWriteExecute") == ["yes"]
    write_exec, exec_ = mmap.PROT_WRITE | mmap.PROT_EXEC, mmap.PROT_EXEC
    checks.append((numbers["mmap"], 2, ("mask", write_exec, write_exec), errno.EPERM))
    for name in ("mprotect", "pkey_mprotect"):
        checks.append((numbers[name], 2, ("mask", exec_, exec_), errno.EPERM))
    return checks


def seccomp_allow_only(names):
    """A preexec function installing the filter: `names` allowed, the rest EPERM (as the unit's
    `SystemCallErrorNumber=EPERM`), other architectures refused, and the argument checks."""
    assert unit_settings("SystemCallErrorNumber") == ["EPERM"]
    assert unit_settings("SystemCallArchitectures") == ["native"]
    arch = AUDIT_ARCH.get(platform.machine())
    assert arch, f"no audit architecture known for {platform.machine()}"
    numbers = syscall_numbers()
    allowed = {numbers[n] for n in names if n in numbers}
    assert len(allowed) > 100, f"only {len(allowed)} of the unit's calls have numbers here"
    return agentkit.seccomp_filter(allowed, listed="allow", native_arch=arch, checks=argument_checks())


def single_cpu_threads(pid):
    """How many of the process's threads may run on one CPU only."""
    count = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                cpus = next(line.split(":", 1)[1].strip() for line in f if line.startswith("Cpus_allowed_list:"))
        except (OSError, StopIteration):
            continue
        count += cpus.isdigit()
    return count


def serve_and_stop(agent, clients=6, results=20):
    """`clients` WebSocket clients each get `results` results; then SIGTERM stops the agent
    within two seconds with status 0. Returns the agent's log."""
    async def client():
        async with websockets.connect(f"ws://{agent.base}/ws") as ws:
            assert json.loads(await ws.recv())["event"] == "hello"
            got = 0
            while got < results:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                got += message["event"] == "anomaly_result"
            return got

    async def run():
        return await asyncio.gather(*(client() for _ in range(clients)))

    assert asyncio.run(run()) == [results] * clients
    status, _, body = agent.get("/api/status")
    assert status == 200, body
    agent.proc.send_signal(15)
    started = time.monotonic()
    assert agent.proc.wait(timeout=5) == 0, agent.log_text()
    assert time.monotonic() - started < 2, "the agent took over two seconds to stop under the filter"
    return agent.log_text()


@pytest.fixture
def make_agent(tmp_path):
    """The agent as the unit runs it, recording (its default VOLTWATCH_OPTS), under a filter."""
    started = []

    def make(filter_names):
        agent = agentkit.Agent("--fake-period-ms", "10", "--record", str(tmp_path / "recordings"),
                               preexec_fn=seccomp_allow_only(filter_names))
        started.append(agent)
        return agent

    yield make
    for agent in started:
        agent.stop()
    assert any((tmp_path / "recordings").rglob("*")), "nothing was recorded under the filter"


def test_the_filter_is_the_units_and_refuses_what_the_unit_refuses():
    allowed = allowed_by_unit()
    for name in ("read", "sendmsg", "epoll_wait", "io_uring_setup", "sched_setaffinity"):
        assert name in allowed, name
    for name in ("setuid", "sched_setscheduler", "setrlimit", "reboot", "init_module"):
        assert name not in allowed, name


def test_the_filter_refuses_other_address_families_and_writable_executable_memory():
    # Both would succeed without the filter (these tests run as root).
    probe = "\n".join([
        "import mmap, socket",
        "try: socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close(); print('packet socket made')",
        "except OSError as e: print('packet socket', e.errno)",
        "try: mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC).close(); print('wx made')",
        "except OSError as e: print('wx', e.errno)",
        "socket.socket(socket.AF_INET6).close(); print('inet6 made')",
    ])
    out = subprocess.run([sys.executable, "-c", probe], preexec_fn=seccomp_allow_only(allowed_by_unit()),
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.splitlines() == [f"packet socket {errno.EAFNOSUPPORT}", f"wx {errno.EPERM}", "inet6 made"], \
        out.stdout + out.stderr


def test_under_the_units_filter_the_agent_serves_pins_its_loops_and_stops(make_agent):
    agent = make_agent(allowed_by_unit())
    if len(os.sched_getaffinity(0)) > 1:
        assert single_cpu_threads(agent.proc.pid) >= 2, "event loops are not pinned under the unit's filter"
    log = serve_and_stop(agent)
    assert "event loops not pinned" not in log, log
    assert "Fatal error" not in log and "Program crashed" not in log, log


def test_without_sched_setaffinity_the_agent_serves_unpinned_and_says_why(make_agent):
    agent = make_agent(allowed_by_unit(drop=["sched_setaffinity"]))
    assert single_cpu_threads(agent.proc.pid) == 0 or len(os.sched_getaffinity(0)) == 1
    log = serve_and_stop(agent)
    if len(os.sched_getaffinity(0)) > 1:
        assert "event loops not pinned" in log and "Operation not permitted" in log, log
