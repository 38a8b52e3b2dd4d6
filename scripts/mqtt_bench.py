#!/usr/bin/env python3
"""What MQTT publishing costs: 8 streams at 10 Hz (two fake boards of 4 channels, one result
every 100 ms each), every result published, measured as the agents' CPU time with --mqtt minus
without, in % of one core. The broker (a real mosquitto on loopback) and a subscriber that
counts what arrives run beside them; their CPU is not the agent's and is reported apart.

    python3 scripts/mqtt_bench.py [--seconds 60]

Not a test: figures for docs/mqtt.md. Needs a built agent (swift build -c release gives the
figure a gateway would see; the debug build is reported as such).
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "mqtt"))
from conftest import Broker, MQTTAgent, Subscriber, wait_until  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def measure(seconds, broker, publish):
    # Two gateways (each its own client id: one id twice makes the broker drop one of them).
    agents = [MQTTAgent({"mqtt": {"url": broker.url, "gateway_id": f"bench{i}", "discovery": True}} if publish else {},
                        "--channels", "4", "--no-history", scenario="normal") for i in range(2)]
    begun = time.monotonic()
    try:
        time.sleep(3)  # warm-up: windows fill, discovery goes out
        before = [cpu_seconds(a.proc.pid) for a in agents]
        broker_before = cpu_seconds(broker.proc.pid)
        start = time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - start
        used = sum(cpu_seconds(a.proc.pid) - b for a, b in zip(agents, before))
        broker_used = cpu_seconds(broker.proc.pid) - broker_before
        measure.last_elapsed = time.monotonic() - begun
        return 100 * used / elapsed, 100 * broker_used / elapsed
    finally:
        for a in agents:
            a.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        broker = Broker(directory)
        sub = Subscriber(broker, ["voltwatch/+/+/+/result"])
        try:
            base, _ = measure(args.seconds, broker, publish=False)
            count_before = len(sub.snapshot())
            with_mqtt, broker_cpu = measure(args.seconds, broker, publish=True)
            received = len(sub.snapshot()) - count_before
            measured = measure.last_elapsed
        finally:
            sub.close()
            broker.stop()
    rate = received / measured
    print(f"agents without MQTT: {base:.2f} % of a core (2 agents, 8 streams at 10 Hz)")
    print(f"agents with MQTT:    {with_mqtt:.2f} % of a core; results received {rate:.0f}/s")
    print(f"publishing costs:    {with_mqtt - base:.2f} % of a core; the broker used {broker_cpu:.2f} %")


if __name__ == "__main__":
    main()
