"""The agent under the unit's seccomp settings (tests/unitfilter.py builds them from
systemd/voltwatch.service as systemd would): it serves, records, and stops cleanly, with
`~@resources` (sched_setaffinity among them) refused as the unit refuses it.

An earlier build pinned its event loops and crashed on start when the filter refused
`sched_setaffinity`: the agent must need nothing from `@resources`."""
import asyncio
import errno
import json
import os
import select
import socket
import subprocess
import sys
import time

import pytest
import websockets

from servicekit import agentkit
import unitfilter  # noqa: E402 (tests/ is on sys.path through servicekit)


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

    def make(drop=()):
        agent = agentkit.Agent("--fake-period-ms", "10", "--record", str(tmp_path / "recordings"),
                               preexec_fn=unitfilter.preexec(drop))
        started.append(agent)
        return agent

    yield make
    for agent in started:
        agent.stop()
    assert any((tmp_path / "recordings").rglob("*")), "nothing was recorded under the filter"


def test_the_filter_is_the_units_and_refuses_what_the_unit_refuses():
    allowed = unitfilter.allowed_by_unit()
    for name in ("read", "sendmsg", "epoll_wait", "setpriority"):
        assert name in allowed, name
    for name in ("setuid", "sched_setscheduler", "sched_setaffinity", "setrlimit", "reboot", "init_module"):
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
    out = subprocess.run([sys.executable, "-c", probe], preexec_fn=unitfilter.preexec(),
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.splitlines() == [f"packet socket {errno.EAFNOSUPPORT}", f"wx {errno.EPERM}", "inet6 made"], \
        out.stdout + out.stderr


def discovery_log(preexec_fn):
    """What `voltwatch run` (discovering boards, none here) logs in its first seconds."""
    agent = subprocess.Popen([agentkit.voltwatch_binary(), "run", "--host", "127.0.0.1",
                              "--port", str(agentkit.free_port()), "--log-level", "info"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn)
    try:
        log = ""
        deadline = time.monotonic() + 10
        while "no board found yet" not in log and time.monotonic() < deadline:
            # The descriptor itself, not the buffered file: select cannot see what a buffered
            # reader already holds.
            ready, _, _ = select.select([agent.stderr.fileno()], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(agent.stderr.fileno(), 65536) if ready else b""
            if not chunk:
                break       # the deadline passed or the agent exited
            log += chunk.decode(errors="replace")
        return log
    finally:
        agent.terminate()
        agent.wait(timeout=5)


def test_under_the_units_filter_discovery_opens_its_udev_netlink_monitor():
    log = discovery_log(unitfilter.preexec())
    assert "no board found yet" in log, log
    assert "polling every" not in log, log
    # The same with netlink refused, as a unit without AF_NETLINK would: the agent falls back.
    numbers = unitfilter.syscall_numbers()
    no_netlink = (numbers["socket"], 0, ("in", [socket.AF_UNIX, socket.AF_INET, socket.AF_INET6]), errno.EAFNOSUPPORT)
    log = discovery_log(agentkit.seccomp_filter([], checks=[no_netlink]))
    assert "polling every" in log, log


def test_under_the_units_filter_the_agent_serves_records_and_stops(make_agent):
    agent = make_agent()
    log = serve_and_stop(agent)
    assert "Fatal error" not in log and "Program crashed" not in log, log
