"""A client that never reads must not hold back the others, must not grow the server's memory
without bound, and must eventually be dropped."""
import asyncio
import json
import time

import websockets
from agentkit import raw_handshake


def raw_websocket_that_never_reads(port):
    """Handshakes with a tiny receive buffer, then never reads again (not even pings)."""
    s, head, _ = raw_handshake(port, receive_buffer=4096)
    assert head.startswith("HTTP/1.1 101"), head
    return s


def test_never_reading_client_does_not_hold_back_the_others(make_agent):
    # A fast fake board (200 Hz) so the stuck client's backlog grows quickly, a small queue, a
    # short grace and keep-alive, so the test sees the whole life cycle in seconds.
    agent = make_agent("--fake-period-ms", "5", "--client-queue", "16", "--slow-client-grace", "2",
                       "--ping-interval", "1")
    stuck = raw_websocket_that_never_reads(agent.port)
    rss_before = agent.rss_kb()

    async def watch(seconds):
        """Counts results and seq gaps for a well-behaved client."""
        received, gaps, last_seq, late = 0, 0, None, 0
        async with websockets.connect(f"ws://{agent.base}/ws") as ws:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                message = json.loads(await asyncio.wait_for(ws.recv(), 2))
                if message["event"] == "missed":
                    gaps += message["data"]["count"]
                if message["event"] != "anomaly_result" or message["data"]["device"] == "app":
                    continue
                received += 1
                seq = message["data"]["seq"]
                if last_seq is not None and seq != last_seq + 1:
                    gaps += 1
                last_seq = seq
                # "On time": the result arrives within 100 ms of its receive timestamp.
                if time.time() - message["data"]["timestamp"] > 0.1:
                    late += 1
        return received, gaps, late

    received, gaps, late = asyncio.run(watch(5))
    assert received > 500, f"only {received} results in 5 s at 200 Hz"
    assert gaps == 0, f"the good client missed {gaps} results"
    assert late <= received * 0.01, f"{late} of {received} results arrived more than 100 ms late"
    assert agent.rss_kb() - rss_before < 20_000, "server memory grew by more than 20 MB"

    # The stuck client is gone by now (keep-alive or slow-client budget).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and agent.status()["clients"]["connected"] > 0:
        time.sleep(0.2)
    assert agent.status()["clients"]["connected"] == 0, "the stuck client was never dropped"
    stuck.close()
