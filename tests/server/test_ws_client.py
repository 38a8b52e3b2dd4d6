"""A `websockets` client on /ws: results, voltage_data, errors, oversized messages."""
import asyncio
import json

import websockets


async def next_event(ws, name, timeout=5):
    async def loop():
        while True:
            message = json.loads(await ws.recv())
            if message["event"] == name:
                return message["data"]
    return await asyncio.wait_for(loop(), timeout)


def test_ws_client_results_answers_and_errors(agent):
    async def run():
        async with websockets.connect(f"ws://{agent.base}/ws") as ws:
            hello = await next_event(ws, "hello")
            assert hello["version"] and "config" in hello and "devices" in hello
            result = await next_event(ws, "anomaly_result")
            assert result["device"] != "app" and isinstance(result["anomaly_score"], (int, float))

            await ws.send(json.dumps({"event": "voltage_data", "data": {"voltage": 2.51}}))
            answer = await next_event(ws, "anomaly_result")
            while answer["device"] != "app":
                answer = await next_event(ws, "anomaly_result")
            assert answer["voltage"] == 2.51

            await ws.send("this is not json")
            error = await next_event(ws, "error")
            assert "message" in error
            await ws.send(json.dumps({"event": "no_such_event", "data": {}}))
            error = await next_event(ws, "error")
            assert "no_such_event" in error["message"]
            # Still connected, still receiving.
            await next_event(ws, "anomaly_result")
    asyncio.run(run())


def test_oversized_message_closes_only_that_client(make_agent):
    agent = make_agent("--max-message-bytes", "1024")

    async def run():
        async with websockets.connect(f"ws://{agent.base}/ws") as good, \
                websockets.connect(f"ws://{agent.base}/ws", max_size=None) as bad:
            await next_event(bad, "hello")
            await bad.send("x" * 4096)
            try:
                while True:
                    await asyncio.wait_for(bad.recv(), 5)
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is None or closed.rcvd.code == 1009
            # The other client keeps receiving.
            await next_event(good, "anomaly_result")
            await next_event(good, "anomaly_result")
    asyncio.run(run())
