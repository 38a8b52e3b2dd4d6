"""Every client gets every result exactly once, in order, from the first one its `hello` did
not cover, while clients join on every event loop and a fast board publishes from the serial
reader's thread: the hub numbers each broadcast under its lock, and each loop delivers them in
that order."""
import asyncio
import json
import time

import websockets


def test_every_client_gets_every_result_once_in_order_while_clients_join(make_agent):
    # A fast fake board, so broadcasts are in flight on every loop while clients join.
    agent = make_agent("--fake-period-ms", "1")

    async def client(delay, seconds):
        await asyncio.sleep(delay)
        async with websockets.connect(f"ws://{agent.base}/ws") as ws:
            hello = json.loads(await ws.recv())
            assert hello["event"] == "hello"
            covered = [r["seq"] for r in hello["data"]["recent"] if r["device"] != "app"]
            seqs = []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                message = json.loads(await asyncio.wait_for(ws.recv(), 2))
                if message["event"] == "anomaly_result" and message["data"]["device"] != "app":
                    seqs.append(message["data"]["seq"])
                assert message["event"] != "missed", "a well-behaved client was told it missed results"
            return covered, seqs

    async def run():
        # Forty clients (enough to keep the machine busy, so loops run late and deliveries
        # overlap), joining over the first second, each listening for two seconds.
        return await asyncio.gather(*(client(i * 0.025, 2) for i in range(40)))

    results = asyncio.run(run())
    for index, (covered, seqs) in enumerate(results):
        assert len(seqs) > 100, f"client {index} got only {len(seqs)} results in 2 s at 1 kHz"
        steps = [b - a for a, b in zip(seqs, seqs[1:])]
        assert all(step == 1 for step in steps), \
            f"client {index}: results out of order, repeated or missing: {[s for s in steps if s != 1][:10]}"
        if covered:
            assert seqs[0] == covered[-1] + 1, \
                f"client {index}: hello covered up to {covered[-1]}, the first broadcast was {seqs[0]}"
