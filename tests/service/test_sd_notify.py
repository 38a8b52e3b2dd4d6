"""The sd_notify sequence systemd sees from `voltwatch run` (Type=notify): READY=1 once the
server listens, WATCHDOG=1 at half of WATCHDOG_USEC, STATUS lines, RELOADING=1 (with
MONOTONIC_USEC) then READY=1 on SIGHUP, STOPPING=1 on SIGTERM and exit 0 within a second."""
import signal
import time
import urllib.request

import pytest

from servicekit import NotifyListener, make_agent, voltwatch  # noqa: F401 (fixtures)


@pytest.fixture(params=[False, True], ids=["path-socket", "abstract-socket"])
def listener(request):
    notify = NotifyListener(abstract=request.param)
    yield notify
    notify.close()


def test_ready_watchdog_status_reload_stopping(make_agent, listener):
    agent = make_agent(env={"NOTIFY_SOCKET": listener.env_value, "WATCHDOG_USEC": "1000000"})
    ready = listener.wait_for("READY", timeout=15)
    assert ready["READY"] == "1"
    # READY=1 means the server accepts connections now.
    urllib.request.urlopen(f"http://127.0.0.1:{agent.port}/api/health", timeout=2).read()
    assert "STATUS" in ready

    # Watchdog at half of 1 s: about 6 pings in 3 s.
    messages = listener.collect(3.0)
    pings = [t for t, m in messages if m.get("WATCHDOG") == "1"]
    assert 4 <= len(pings) <= 8, f"{len(pings)} pings in 3 s: {messages}"
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert max(gaps) < 0.9, f"watchdog gaps {gaps}"
    statuses = [m["STATUS"] for _, m in listener.messages if "STATUS" in m]
    assert any("connected to /dev/" in s and "frames/s" in s and "clients" in s for s in statuses), statuses

    # SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 again.
    agent.proc.send_signal(signal.SIGHUP)
    reloading = listener.wait_for("RELOADING", timeout=5)
    assert reloading["RELOADING"] == "1"
    assert int(reloading["MONOTONIC_USEC"]) > 0
    listener.wait_for("READY", timeout=5)
    assert agent.proc.poll() is None

    # SIGTERM: STOPPING=1 at once, exit 0 within a second.
    start = time.monotonic()
    agent.proc.send_signal(signal.SIGTERM)
    stopping = listener.wait_for("STOPPING", timeout=2)
    assert stopping["STOPPING"] == "1"
    assert agent.proc.wait(timeout=5) == 0
    elapsed = time.monotonic() - start
    assert elapsed < 1.0, f"exit took {elapsed:.2f} s"


def test_sigint_stops_gracefully_too(make_agent, listener):
    agent = make_agent(env={"NOTIFY_SOCKET": listener.env_value})
    listener.wait_for("READY", timeout=15)
    start = time.monotonic()
    agent.proc.send_signal(signal.SIGINT)
    listener.wait_for("STOPPING", timeout=2)
    assert agent.proc.wait(timeout=5) == 0
    assert time.monotonic() - start < 1.0


def test_no_watchdog_pings_for_another_process(make_agent, listener):
    """WATCHDOG_PID naming another process means the variables were inherited: no pings."""
    agent = make_agent(env={"NOTIFY_SOCKET": listener.env_value, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    listener.wait_for("READY", timeout=15)
    messages = listener.collect(1.5)
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
             "--config", str(ROOT / "config" / "model_config.json")],
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
