"""SIGHUP reloads model_config.json without dropping the serial port or a client; a broken
file is refused (the log names the key) and the old configuration stays; a bad file at start
exits 78 so systemd does not restart-loop."""
import asyncio
import json
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import websockets

from servicekit import ROOT, voltwatch, make_agent  # noqa: F401 (fixtures)
from agentkit import EVENT_TIMEOUT, wait_until  # noqa: E402 (servicekit puts tests/ on the path)


@pytest.fixture
def config_copy():
    folder = tempfile.mkdtemp(prefix="voltwatch-reload-")
    path = f"{folder}/model_config.json"
    shutil.copy(ROOT / "config" / "model_config.json", path)
    yield path
    shutil.rmtree(folder, ignore_errors=True)


def edit(path, **changes):
    config = json.load(open(path))
    config.update(changes)
    with open(path, "w") as f:
        json.dump(config, f)


def test_sighup_applies_a_changed_threshold_without_dropping_clients(make_agent, config_copy):
    agent = make_agent(config=config_copy)
    agent.wait_serving()
    assert agent.model()["config"]["anomaly_threshold"] == 0.7

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{agent.port}/ws") as ws:
            async def next_results(n):
                got = []
                while len(got) < n:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if message["event"] == "anomaly_result":
                        got.append(message["data"])
                return got

            before = await next_results(5)
            # max_volts below the fake's ~2.5 V: every sample is now out of range.
            edit(config_copy, anomaly_threshold=0.65, max_volts=1.0)
            agent.proc.send_signal(signal.SIGHUP)
            async def reloaded():
                while agent.model()["config"]["anomaly_threshold"] != 0.65:
                    await asyncio.sleep(0.02)
            await asyncio.wait_for(reloaded(), EVENT_TIMEOUT)
            after = await next_results(20)
            return before, after

    before, after = asyncio.run(scenario())
    assert not any(r["is_anomaly"] for r in before), before
    # Results queued before the reload come first; from the first one scored with the new
    # file on, every sample is out of range.
    first = next(i for i, r in enumerate(after) if "out_of_range" in r["kinds"])
    assert len(after) - first >= 5
    assert all(r["is_anomaly"] and "out_of_range" in r["kinds"] for r in after[first:]), after
    assert wait_until(lambda: agent.model()["config"]["anomaly_threshold"] == 0.65)
    assert agent.model()["config"]["max_volts"] == 1.0
    log = agent.log_text()
    assert "anomaly_threshold: 0.7 → 0.65" in log
    # One connection to the fake board for the whole run: the port was never reopened.
    assert log.count("[VoltSerial] connected") == 1
    assert agent.proc.poll() is None


def test_a_reload_ends_the_alarm_in_progress_for_every_client(make_agent, config_copy):
    """A reload starts every signal afresh and so ends the alarm in progress: the episode
    list must show it ended, or an app would show that alarm open for good."""
    # max_volts below the fake's ~2.5 V: every sample is out of range, one long episode.
    edit(config_copy, max_volts=1.0)
    agent = make_agent(config=config_copy)
    agent.wait_serving()

    def episodes():
        return json.loads(agent.http("/api/anomalies"))["anomalies"]

    assert wait_until(lambda: any(e["open"] and "out_of_range" in e["kinds"] for e in episodes()))
    before = next(e for e in episodes() if e["open"])

    edit(config_copy, max_volts=None)
    agent.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: agent.model()["config"]["max_volts"] is None)

    def ended():
        return next((e for e in episodes() if e["id"] == before["id"] and e["device"] == before["device"]), None)
    assert wait_until(lambda: ended() is not None and not ended()["open"]), ended()
    assert ended()["samples"] >= before["samples"]
    # Nothing was left open under the old limit.
    assert not any(e["open"] and "out_of_range" in e["kinds"] for e in episodes()), episodes()


def test_a_broken_file_is_refused_and_the_old_config_stays(make_agent, config_copy):
    agent = make_agent("--print", config=config_copy, stdout=subprocess.PIPE)
    agent.wait_serving()
    edit(config_copy, anomaly_threshold=1.5)
    agent.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: "reload refused" in agent.log_text())
    log = agent.log_text()
    assert "anomaly_threshold" in log.split("reload refused", 1)[1].splitlines()[0]
    with open(config_copy, "w") as f:
        f.write("{ not json")
    agent.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: agent.log_text().count("reload refused") == 2)
    refused_at = time.time()
    # Still running and still scoring with the old configuration: five results received after
    # the second refusal (earlier ones may still sit in the pipe), all normal.
    results = []
    while len(results) < 5:
        line = agent.proc.stdout.readline()
        assert line, f"the agent stopped after a refused reload: {agent.log_text()[-2000:]}"
        result = json.loads(line)
        if result["timestamp"] > refused_at:
            results.append(result)
    assert all(not r["is_anomaly"] for r in results), results
    assert agent.proc.poll() is None
    assert agent.model()["config"]["anomaly_threshold"] == 0.7


def test_a_bad_config_at_start_exits_78(voltwatch, config_copy):
    edit(config_copy, anomaly_treshold=0.5)
    out = subprocess.run([voltwatch, "run", "--fake", "normal", "--no-serve", "--config", config_copy],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 78, out.stderr
    assert "anomaly_treshold" in out.stderr


def test_live_scorer_timing_reaches_metrics(make_agent):
    agent = make_agent()
    agent.wait_serving()

    def count():
        for line in agent.http("/metrics").decode().splitlines():
            if line.startswith("voltwatch_scorer_duration_seconds_count"):
                return float(line.split()[-1])
        return 0

    assert wait_until(lambda: count() >= 5, timeout=5), agent.http("/metrics").decode()[:2000]
