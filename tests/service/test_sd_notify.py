"""The sd_notify sequence systemd sees from `voltwatch run` (Type=notify): READY=1 once the
server listens, WATCHDOG=1 at half of WATCHDOG_USEC, STATUS lines, RELOADING=1 (with
MONOTONIC_USEC) then READY=1 on SIGHUP, STOPPING=1 on SIGTERM and exit 0 on its own.

The tests wait for messages, not for time: the schedule itself (half of WATCHDOG_USEC) is
WatchdogScheduleTests' to prove, and how fast the agent stops is not a pass/fail figure on a
shared machine. What a deadline remains bounds a failing test only."""
import signal
import statistics
import urllib.request

import pytest

from servicekit import NotifyListener, make_agent, voltwatch  # noqa: F401 (fixtures)
from agentkit import EVENT_TIMEOUT  # noqa: E402 (servicekit puts tests/ on the path)

# swift-service-lifecycle's words (at debug level) when a service outlives the graceful
# shutdown limit and the group cancels it: a shutdown that needed force.
FORCED = "Graceful shutdown took longer than allowed by the configuration"


def wait_for_status(listener, predicate):
    """The first STATUS line, received so far or from now on, for which `predicate` holds."""
    seen = 0
    while True:
        for _, fields in listener.messages[seen:]:
            if "STATUS" in fields and predicate(fields["STATUS"]):
                return fields["STATUS"]
        seen = len(listener.messages)
        listener.wait_for("STATUS", timeout=EVENT_TIMEOUT)


def stops_on_its_own(agent, listener):
    """STOPPING=1 first, then exit 0, without the service group forcing anything."""
    stopping = listener.wait_for("STOPPING", timeout=EVENT_TIMEOUT)
    assert stopping["STOPPING"] == "1"
    assert agent.proc.wait(timeout=EVENT_TIMEOUT) == 0
    assert FORCED not in agent.log_text(), "a service had to be cancelled after the graceful shutdown limit"


@pytest.fixture(params=[False, True], ids=["path-socket", "abstract-socket"])
def listener(request):
    notify = NotifyListener(abstract=request.param)
    yield notify
    notify.close()


def test_ready_watchdog_status_reload_stopping(make_agent, listener):
    agent = make_agent("--log-level", "debug", env={"NOTIFY_SOCKET": listener.env_value, "WATCHDOG_USEC": "1000000"})
    ready = listener.wait_for("READY", timeout=EVENT_TIMEOUT)
    assert ready["READY"] == "1"
    # READY=1 means the server accepts connections now.
    urllib.request.urlopen(f"http://127.0.0.1:{agent.port}/api/health", timeout=2).read()
    assert "STATUS" in ready

    # Watchdog pings keep coming: six of them, paced well inside systemd's 1 s (the median
    # gap, so one stall of a loaded host is not the agent's fault).
    while sum(m.get("WATCHDOG") == "1" for _, m in listener.messages) < 6:
        listener.wait_for("WATCHDOG", timeout=EVENT_TIMEOUT, value="1")
    pings = [t for t, m in listener.messages if m.get("WATCHDOG") == "1"]
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert len(pings) >= 6 and 0.25 <= statistics.median(gaps) < 1.0, f"watchdog gaps {gaps}"
    # The status a person reads names the port, the frame rate and the clients.
    wait_for_status(listener, lambda s: "connected to /dev/" in s and "frames/s" in s and "clients" in s)

    # SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 again.
    agent.proc.send_signal(signal.SIGHUP)
    reloading = listener.wait_for("RELOADING", timeout=5)
    assert reloading["RELOADING"] == "1"
    assert int(reloading["MONOTONIC_USEC"]) > 0
    listener.wait_for("READY", timeout=5)
    assert agent.proc.poll() is None

    # SIGTERM: STOPPING=1, then exit 0 on its own.
    agent.proc.send_signal(signal.SIGTERM)
    stops_on_its_own(agent, listener)


def test_sigint_stops_gracefully_too(make_agent, listener):
    agent = make_agent("--log-level", "debug", env={"NOTIFY_SOCKET": listener.env_value})
    listener.wait_for("READY", timeout=EVENT_TIMEOUT)
    agent.proc.send_signal(signal.SIGINT)
    stops_on_its_own(agent, listener)


def test_no_watchdog_pings_for_another_process(make_agent, listener):
    """WATCHDOG_PID naming another process means the variables were inherited: no pings."""
    agent = make_agent(env={"NOTIFY_SOCKET": listener.env_value, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    listener.wait_for("READY", timeout=EVENT_TIMEOUT)
    messages = listener.collect(1.5)  # three times the ping interval it would have used
    assert not [m for _, m in messages if "WATCHDOG" in m], messages
    assert agent.proc.poll() is None


def test_without_notify_socket_nothing_is_sent_and_it_runs(make_agent):
    agent = make_agent()
    agent.wait_serving()
    assert "told systemd" not in agent.log_text()


def test_no_ready_when_another_program_holds_the_port(voltwatch, listener):
    """READY=1 comes from the server itself once it has bound its port, not from a probe of
    the port: with another program listening there, systemd hears no READY=1 and the agent
    exits with a failure (so Restart=on-failure and the logs tell the truth)."""
    import socket
    import subprocess
    from servicekit import free_port, ROOT

    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
    port = free_port()
    squatter.bind(("127.0.0.1", port))
    squatter.listen()
    try:
        proc = subprocess.Popen(
            [voltwatch, "run", "--fake", "normal", "--host", "127.0.0.1", "--port", str(port),
             "--config", str(ROOT / "config" / "model_config.json"), "--no-history"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={"PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": listener.env_value})
        try:
            code = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert code != 0
        seen = listener.collect(0.5)
        assert not any(m.get("READY") == "1" for _, m in listener.messages + seen), listener.messages
    finally:
        squatter.close()
