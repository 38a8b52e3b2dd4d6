"""--max-clients: the client over the limit is told why and closed; a freed place is reused.
--max-connections: at the limit, new connections of any kind wait until one closes."""
import asyncio
import json
import socket

import websockets
from agentkit import EVENT_TIMEOUT, accept_queue_length, wait_until


def test_the_client_over_the_limit_is_refused_with_a_reason(make_agent):
    agent = make_agent("--max-clients", "2")

    async def run():
        first = await websockets.connect(f"ws://{agent.base}/ws")
        second = await websockets.connect(f"ws://{agent.base}/socket.io/?EIO=4&transport=websocket")
        assert json.loads(await first.recv())["event"] == "hello"
        assert (await second.recv()).startswith("0{")
        await second.send("40")
        assert (await second.recv()).startswith("40{")
        assert '"hello"' in await second.recv()

        # /ws over the limit: an error event saying why, then close code 1013 (try again later).
        third = await websockets.connect(f"ws://{agent.base}/ws")
        error = json.loads(await third.recv())
        assert error["event"] == "error" and "too many clients" in error["data"]["message"]
        try:
            while True:
                await asyncio.wait_for(third.recv(), 2)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd.code == 1013

        # Socket.IO over the limit: connect_error (44) with the reason.
        fourth = await websockets.connect(f"ws://{agent.base}/socket.io/?EIO=4&transport=websocket")
        await fourth.recv()
        await fourth.send("40")
        refusal = await fourth.recv()
        assert refusal.startswith("44") and "too many clients" in refusal
        await fourth.close()

        # The others were not disturbed, and a freed place is taken again.
        assert json.loads(await first.recv())["event"] in ("anomaly_result", "device_status")
        await first.close()
        async def the_close_reached_the_agent():
            while agent.status()["clients"]["connected"] >= 2:
                await asyncio.sleep(0.02)
        await asyncio.wait_for(the_close_reached_the_agent(), EVENT_TIMEOUT)
        async with websockets.connect(f"ws://{agent.base}/ws") as fifth:
            assert json.loads(await fifth.recv())["event"] == "hello"
        await second.close()

    asyncio.run(run())


def test_at_the_connection_limit_new_connections_wait_until_one_closes(make_agent):
    agent = make_agent("--max-connections", "3")
    idle = [socket.create_connection(("127.0.0.1", agent.port)) for _ in range(3)]
    # The kernel completes a handshake before the agent accepts; wait until it has taken all three.
    assert wait_until(lambda: accept_queue_length(agent.port) == 0), "the agent did not accept three connections"

    waiting = socket.create_connection(("127.0.0.1", agent.port))  # the kernel queues it
    waiting.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert wait_until(lambda: accept_queue_length(agent.port) == 1), "the fourth connection is not in the kernel's queue"
    waiting.settimeout(1)
    try:
        early = waiting.recv(4096)
    except socket.timeout:
        early = None
    assert early is None, f"a fourth connection was served: {early[:40]!r}"

    idle[0].close()  # a place frees up: the waiting connection is accepted and answered
    waiting.settimeout(5)
    answer = waiting.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:40]
    for s in idle[1:] + [waiting]:
        s.close()
