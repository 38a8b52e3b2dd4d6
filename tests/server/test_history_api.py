"""The history endpoints against a running agent with a real store: the stored series, episodes
as JSON and CSV (and since a time, for a phone that was away), one episode with the signal
around it, the summary in words over HTTP, /ws and Socket.IO; and with --no-history, answers
that say how to turn it on."""
import asyncio
import csv
import io
import json
import threading
import time

import requests
import socketio
import websockets

from agentkit import EVENT_TIMEOUT, wait_until


def flushed_with_an_episode(agent):
    """The closed episodes, once the store holds a closed one and the second it happened in."""
    now = time.time()
    series = requests.get(agent.url("/api/history"), params={"device": "fake", "from": now - 600, "to": now + 1},
                          timeout=10).json()
    if sum(p[5] for p in series.get("points", [])) < 1:
        return None
    with_context = []
    for e in requests.get(agent.url("/api/anomalies"), params={"device": "fake"}, timeout=10).json()["anomalies"]:
        if not e["open"] and requests.get(agent.url("/api/episode"), params={"device": "fake", "id": e["id"]}, timeout=10).ok:
            with_context.append(e)
    return with_context or None


def test_the_store_answers_history_anomalies_episodes_and_summaries(make_agent):
    agent = make_agent("--fake-period-ms", "20", scenario="spikes")
    assert wait_until(lambda: flushed_with_an_episode(agent)), "no stored episode"
    episodes = flushed_with_an_episode(agent)

    streams = requests.get(agent.url("/api/history"), timeout=10).json()["streams"]
    assert [s["device"] for s in streams] == ["fake"] and streams[0]["unit"] == "V"

    now = time.time()
    series = requests.get(agent.url("/api/history"), params={"device": "fake", "from": now - 600, "to": now + 1}, timeout=10).json()
    assert series["step"] == 1 and series["columns"] == ["t", "min", "max", "mean", "count", "anomalies"]
    assert series["points"] and all(p[1] <= p[3] <= p[2] for p in series["points"])
    assert sum(p[5] for p in series["points"]) >= 1, "the spike's second counts an anomaly"
    coarse = requests.get(agent.url("/api/history"), params={"device": "fake", "from": now - 600, "to": now + 1, "step": 60},
                          timeout=10).json()
    assert sum(p[4] for p in coarse["points"]) >= sum(p[4] for p in series["points"]) - 50  # same samples, per minute

    first = episodes[-1]
    context = requests.get(agent.url("/api/episode"), params={"device": "fake", "id": first["id"]}, timeout=10)
    assert context.status_code == 200, context.text
    body = context.json()
    assert body["episode"]["id"] == first["id"] and body["columns"] == ["t", "value", "score", "anomaly"]
    assert any(p[3] == 1 for p in body["points"]), "the alarm's own samples are in its context"
    assert min(p[0] for p in body["points"]) < first["start"], "the signal before the alarm is kept"

    table = requests.get(agent.url("/api/anomalies"), params={"format": "csv"}, timeout=10)
    assert table.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert rows and rows[0]["device"] == "fake" and "spike" in {r["kinds"] for r in rows}

    later = requests.get(agent.url("/api/anomalies"), params={"since": first["end"] + 1e-3 if len(episodes) > 1 else now + 3600},
                         timeout=10).json()
    assert all(e["end"] >= first["end"] for e in later["anomalies"])

    summary = requests.get(agent.url("/api/summary"), params={"window": "1h"}, timeout=10).json()
    assert summary["window"] == "60 min" and summary["text"].startswith("fake: ")
    assert "spike" in summary["text"]

    async def over_ws():
        async with websockets.connect(f"ws://{agent.base}/ws") as ws:
            await ws.send(json.dumps({"event": "summary_request", "data": {"window": "1h"}}))
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT))
                if message["event"] in ("summary", "error"):
                    return message

    answer = asyncio.run(over_ws())
    assert answer["event"] == "summary" and answer["data"]["text"].startswith("fake: "), answer

    client = socketio.Client(reconnection=False)
    got = threading.Event()
    received = {}

    @client.on("summary")
    def on_summary(data):
        received.update(data)
        got.set()

    client.connect(f"http://{agent.base}", wait_timeout=10)
    try:
        client.emit("summary_request", {"device": "fake", "window": "24h"})
        assert got.wait(EVENT_TIMEOUT)
    finally:
        client.disconnect()
    assert received["streams"][0]["device"] == "fake"


def test_bad_history_queries_are_told_what_to_send(agent):
    assert requests.get(agent.url("/api/history"), params={"device": "fake", "from": "yesterday"}, timeout=10).status_code == 400
    assert requests.get(agent.url("/api/history"), params={"device": "fake", "step": "0"}, timeout=10).status_code == 400
    assert requests.get(agent.url("/api/summary"), params={"window": "soon"}, timeout=10).status_code == 400
    assert requests.get(agent.url("/api/anomalies"), params={"format": "xml"}, timeout=10).status_code == 400
    missing = requests.get(agent.url("/api/episode"), params={"device": "fake", "id": "999999"}, timeout=10)
    assert missing.status_code == 404 and "no episode" in missing.json()["error"]


def test_without_history_the_endpoints_say_how_to_turn_it_on(make_agent):
    agent = make_agent("--no-history")
    answer = requests.get(agent.url("/api/history"), params={"device": "fake"}, timeout=10)
    assert answer.status_code == 404 and "--no-history" in answer.json()["error"]
    assert requests.get(agent.url("/api/anomalies"), timeout=10).status_code == 200
    assert requests.get(agent.url("/api/status"), timeout=10).json()["history"] is None


def metric(agent, name):
    for line in requests.get(agent.url("/metrics"), timeout=10).text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.split()[-1])
    return None


def test_the_store_health_is_on_metrics_too(make_agent, tmp_path):
    healthy = make_agent()
    assert wait_until(lambda: (metric(healthy, "voltwatch_history_writes_total") or 0) >= 1)
    assert metric(healthy, "voltwatch_history_ok") == 1
    damaged_dir = tmp_path / "damaged"
    damaged_dir.mkdir()
    (damaged_dir / "history.sqlite").write_bytes(b"Z" * 8192)
    broken = make_agent("--data-dir", str(damaged_dir))
    assert wait_until(lambda: (metric(broken, "voltwatch_history_write_failures_total") or 0) >= 1)
    assert metric(broken, "voltwatch_history_ok") == 0
    assert requests.get(broken.url("/api/status"), timeout=10).json()["history"]["state"] == "failing"
