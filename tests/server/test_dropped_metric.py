"""`voltwatch_client_messages_dropped_total` counts what a stuck client lost even when it is
cut off before its socket ever drains: the metric and `/api/status` agree."""
import re
import time

from agentkit import raw_handshake


def dropped_metric(agent):
    status, body = agent.http("/metrics")
    assert status == 200
    match = re.search(rb"^voltwatch_client_messages_dropped_total (\d+)", body, re.M)
    return int(match.group(1)) if match else 0


def test_a_client_cut_off_for_falling_behind_has_its_drops_counted(make_agent):
    # A 1 kHz board, a small queue and a short grace: the stuck client's socket fills and it
    # is cut off for falling behind within seconds (pings are too rare to drop it first).
    agent = make_agent("--fake-period-ms", "1", "--client-queue", "16", "--slow-client-grace", "1",
                       "--ping-interval", "60")
    stuck, head, _ = raw_handshake(agent.port, receive_buffer=4096)
    assert head.startswith("HTTP/1.1 101"), head
    # Wait for the event: the hub counts the client gone (the deadline only bounds a failure).
    deadline = time.monotonic() + 60
    while agent.status()["clients"]["connected"] > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert agent.status()["clients"]["connected"] == 0, "the stuck client was never cut off"
    reported = agent.status()["clients"]["dropped_messages"]
    assert reported > 0, "the stuck client dropped nothing"
    assert dropped_metric(agent) == reported, (dropped_metric(agent), reported)
    stuck.close()
