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
        """What a well-behaved client gets: results, results the hub told it it missed, results
        absent from the sequence, results out of order or repeated, and late ones."""
        received, missed, absent, disorder, last_seq, late = 0, 0, 0, 0, None, 0
        async with websockets.connect(f"ws://{agent.base}/ws") as ws:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                message = json.loads(await asyncio.wait_for(ws.recv(), 2))
                if message["event"] == "missed":
                    missed += message["data"]["count"]
                if message["event"] != "anomaly_result" or message["data"]["device"] == "app":
                    continue
                received += 1
                seq = message["data"]["seq"]
                if last_seq is not None:
                    absent += max(0, seq - last_seq - 1)
                    disorder += seq <= last_seq
                last_seq = seq
                # "On time": the result arrives within 100 ms of its receive timestamp.
                if time.time() - message["data"]["timestamp"] > 0.1:
                    late += 1
        return received, missed, absent, disorder, late

    def lost_by_the_board():
        return sum(device["lost"] for device in agent.status()["devices"])

    lost_before = lost_by_the_board()
    received, missed, absent, disorder, late = asyncio.run(watch(5))
    lost = lost_by_the_board() - lost_before
    assert received > 500, f"only {received} results in 5 s at 200 Hz"
    assert missed == 0, f"the hub dropped {missed} results for the good client"
    assert disorder == 0, f"{disorder} results came out of order or twice"
    # A result can be absent only if its frame never reached the agent: the fake board, like a
    # real one, drops a line when the host stalls and the serial buffer is full, and the reader
    # counts every frame it did not see.
    assert absent <= lost, f"{absent} results absent from the sequence, but the board lost only {lost} frames"
    assert late <= received * 0.01, f"{late} of {received} results arrived more than 100 ms late"
    assert agent.rss_kb() - rss_before < 20_000, "server memory grew by more than 20 MB"

    # The stuck client is gone by now (keep-alive or slow-client budget).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and agent.status()["clients"]["connected"] > 0:
        time.sleep(0.2)
    assert agent.status()["clients"]["connected"] == 0, "the stuck client was never dropped"
    stuck.close()
