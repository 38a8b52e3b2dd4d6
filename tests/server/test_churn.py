"""Clients that come and go, cleanly or not, leave nothing behind in the server."""
import asyncio
import socket

import websockets
from agentkit import raw_handshake, wait_until


def test_clients_that_come_and_go_leave_nothing_behind(make_agent):
    # A fast fake board, so broadcasts race every join and leave.
    agent = make_agent("--fake-period-ms", "5")
    rss_before = agent.rss_kb()

    async def polite(n):
        for _ in range(n):
            async with websockets.connect(f"ws://{agent.base}/ws") as ws:
                await ws.recv()
                await ws.recv()

    async def socket_io(n):
        for _ in range(n):
            async with websockets.connect(f"ws://{agent.base}/socket.io/?EIO=4&transport=websocket") as ws:
                await ws.recv()          # Engine.IO open
                await ws.send("40")      # join the namespace
                await ws.recv()          # 40{"sid"}

    def rude(n):
        for i in range(n):
            s, head, _ = raw_handshake(agent.port)
            assert head.startswith("HTTP/1.1 101"), head
            if i % 2:
                # Reset instead of a close handshake.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()

    def half_handshake(n):
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", agent.port))
            s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
            s.close()

    async def run():
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            polite(100), polite(100), socket_io(100),
            loop.run_in_executor(None, rude, 200), loop.run_in_executor(None, half_handshake, 100))

    asyncio.run(run())
    # The last closes may still be on their way: wait for the status to count them.
    wait_until(lambda: agent.status()["clients"]["connected"] == 0)
    status = agent.status()
    assert status["clients"]["connected"] == 0, status["clients"]
    metrics = agent.http("/metrics")[1].decode()
    gauges = [line for line in metrics.splitlines() if line.startswith("voltwatch_clients{")]
    assert gauges and all(line.endswith(" 0") or line.endswith(" 0.0") for line in gauges), gauges
    assert agent.rss_kb() - rss_before < 10_000, "600 clients that left cost more than 10 MB"

    async def still_served():
        async with websockets.connect(f"ws://{agent.base}/ws") as ws:
            events = [(await ws.recv())[:30] for _ in range(3)]
            return events
    events = asyncio.run(still_served())
    assert '"event":"hello"' in events[0] and all('"anomaly_result"' in e for e in events[1:])
