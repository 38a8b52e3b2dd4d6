"""A board that stops talking alarms while it is silent, not when it comes back: the phone (a
webhook) and Home Assistant (MQTT) hear of the dropout while no sample arrives, the dashboard's
list shows it, and the sample that ends the silence belongs to the same alarm."""
import asyncio
import json

import websockets

from conftest import MQTTAgent, Subscriber, wait_until
from test_webhooks import Receiver


def simulation(agent, event):
    """Sends `event` (`stop_simulation`, `start_simulation`) over /ws and returns the answer."""
    async def send():
        async with websockets.connect(f"ws://{agent.base}/ws", open_timeout=30) as ws:
            assert json.loads(await ws.recv())["event"] == "hello"
            await ws.send(json.dumps({"event": event, "data": {}}))
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if message["event"] in ("simulation_started", "simulation_stopped", "error"):
                    return message
    return asyncio.run(send())


def status(agent):
    return json.loads(agent.get("/api/status")[2])


def frames(agent):
    devices = status(agent)["devices"]
    return next((d["frames"] for d in devices if d["device"] == "fake"), 0)


def test_a_silent_board_alarms_while_it_is_silent(broker, agents, subscribers):
    receiver = Receiver()
    sub = Subscriber(broker, ["voltwatch/quiet/fake/anomaly"])
    subscribers.append(sub)
    try:
        agent = MQTTAgent({"mqtt": {"url": broker.url, "gateway_id": "quiet", "discovery": False},
                           "webhooks": [{"url": receiver.url, "min_interval_seconds": 0}]}, scenario="normal")
        agents.append(agent)
        agent.wait_serving()
        assert wait_until(lambda: frames(agent) >= 20, timeout=30), agent.log_text()

        assert simulation(agent, "stop_simulation")["event"] == "simulation_stopped"
        stopped_at = frames(agent)

        def dropout_starts():
            return [a for a in receiver.accepted() if a["event"] == "start" and "dropout" in a["kinds"]]
        assert wait_until(dropout_starts, timeout=30), (receiver.accepted(), agent.log_text())
        start = dropout_starts()[0]
        # Heard of while silent: no sample has arrived since the board stopped.
        assert frames(agent) == stopped_at
        assert start["samples"] == 0 and start["open"] is True and start["severity"] == "warning"
        assert start["reasons"][0].startswith("dropout:")
        assert start["peak_voltage"] is None
        listed = next(e for e in json.loads(agent.get("/api/anomalies?device=fake")[2])["anomalies"]
                      if e["id"] == start["id"])
        assert listed["kinds"] == ["dropout"] and listed["severity"] == "warning"
        assert wait_until(lambda: [m for m in sub.json_on("voltwatch/quiet/fake/anomaly")
                                   if m["event"] == "start" and m["id"] == start["id"]], timeout=30)

        assert simulation(agent, "start_simulation")["event"] == "simulation_started"
        # The line comes back: the alarm ends (the board's reboot or its first normal sample).
        def end():
            return [a for a in receiver.accepted() if a["event"] == "end" and a["id"] == start["id"]]
        assert wait_until(end, timeout=30), receiver.accepted()
        assert wait_until(lambda: frames(agent) > stopped_at + 20, timeout=30)
        assert end()[0]["open"] is False and end()[0]["kinds"][0] == "dropout"
    finally:
        receiver.close()
