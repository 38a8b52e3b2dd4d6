"""MQTT publishing against a real mosquitto broker: a fleet of gateways, the will on kill -9,
no episode lost while the broker is away, TLS with a wrong password, Home Assistant discovery."""
import json
import os
import signal
import subprocess
import time

from conftest import MQTTAgent, Broker, Subscriber, wait_until

RESULT_KEYS = ["anomaly_score", "is_anomaly", "confidence", "timestamp", "voltage", "device", "seq",
               "severity", "kinds", "reasons", "episode"]


def test_a_fleet_of_three_gateways_publishes_into_one_broker(broker, agents, subscribers):
    sub = Subscriber(broker, ["voltwatch/#"])
    subscribers.append(sub)
    for gateway, scenario in [("gw1", "spikes"), ("gw2", "spikes"), ("gw3", "brownout")]:
        agents.append(MQTTAgent({"mqtt": {"url": broker.url, "gateway_id": gateway, "discovery": False}}, scenario=scenario))

    def complete(gateway, need_anomaly):
        base = f"voltwatch/{gateway}"
        return ("online" in sub.on(f"{base}/status") and sub.on(f"{base}/fake/state") and sub.on(f"{base}/fake/result")
                and (sub.on(f"{base}/fake/anomaly") or not need_anomaly))
    assert wait_until(lambda: all(complete(g, g != "gw3") for g in ["gw1", "gw2", "gw3"]), timeout=30), \
        {t for t, _, _ in sub.snapshot()}

    result = sub.json_on("voltwatch/gw1/fake/result")[0]
    assert list(result)[:len(RESULT_KEYS)] == RESULT_KEYS, "results are /ws's anomaly_result, key for key"
    state = sub.json_on("voltwatch/gw2/fake/state")[-1]
    assert state["device"] == "fake" and state["state"] == "connected" and "firmware" in state
    episode = sub.json_on("voltwatch/gw1/fake/anomaly")[0]
    assert episode["event"] == "start" and episode["open"] is True and episode["device"] == "fake"

    # A newcomer sees each gateway's retained status and device state at once.
    late = Subscriber(broker, ["voltwatch/+/status", "voltwatch/+/fake/state"])
    subscribers.append(late)
    assert wait_until(lambda: len([m for m in late.snapshot() if m[2]]) >= 6)
    retained = {t: p for t, p, r in late.snapshot() if r}
    for g in ["gw1", "gw2", "gw3"]:
        assert retained[f"voltwatch/{g}/status"] == "online"
        assert json.loads(retained[f"voltwatch/{g}/fake/state"])["state"] == "connected"


def test_kill_9_publishes_the_offline_will_within_the_keepalive(broker, agents, subscribers):
    sub = Subscriber(broker, ["voltwatch/+/status"])
    subscribers.append(sub)
    agent = MQTTAgent({"mqtt": {"url": broker.url, "gateway_id": "doomed", "keepalive": 5, "discovery": False}})
    agents.append(agent)
    assert wait_until(lambda: sub.on("voltwatch/doomed/status")[-1:] == ["online"], timeout=15)
    killed = time.monotonic()
    agent.proc.send_signal(signal.SIGKILL)
    agent.proc.wait()
    assert wait_until(lambda: sub.on("voltwatch/doomed/status")[-1:] == ["offline"], timeout=10)
    elapsed = time.monotonic() - killed
    # The broker gives up after 1.5 keepalives (7.5 s; 5 s is libmosquitto's least) and checks
    # about once a second.
    assert elapsed <= 1.5 * 5 + 1.5, f"the will came {elapsed:.1f} s after kill -9"
    print(f"offline will {elapsed:.1f} s after kill -9 (keepalive 5 s)")


def test_a_clean_stop_says_offline_retained(broker, agents, subscribers):
    sub = Subscriber(broker, ["voltwatch/+/status"])
    subscribers.append(sub)
    agent = MQTTAgent({"mqtt": {"url": broker.url, "gateway_id": "tidy", "discovery": False}})
    assert wait_until(lambda: sub.on("voltwatch/tidy/status")[-1:] == ["online"], timeout=15)
    agent.stop()
    assert wait_until(lambda: sub.on("voltwatch/tidy/status")[-1:] == ["offline"], timeout=5)


def test_no_episode_is_lost_while_the_broker_is_away(broker, agents, subscribers):
    sub = Subscriber(broker, ["voltwatch/+/fake/anomaly"])
    subscribers.append(sub)
    agent = MQTTAgent({"mqtt": {"url": broker.url, "gateway_id": "outage", "keepalive": 5, "discovery": False}})
    agents.append(agent)
    topic = "voltwatch/outage/fake/anomaly"
    assert wait_until(lambda: any(e["event"] == "end" for e in sub.json_on(topic)), timeout=30)

    broker.stop()
    stopped = time.time()
    # Anomalies go on while the broker is away: wait until two episodes began and ended after
    # it went (the fake board spikes every 5-15 s: the broker stays away about 10-30 s).
    assert wait_until(lambda: len([e for e in agent.anomalies() if e["start"] > stopped and not e["open"]]) >= 2, timeout=60)
    assert "episodes wait in the outbox" in agent.log_text()
    broker.start()

    raised = sorted((e for e in agent.anomalies() if e["start"] > stopped and not e["open"]), key=lambda e: e["id"])
    wanted = {(e["id"], ev) for e in raised for ev in ("start", "end")}

    def seen():
        return {(e["id"], e["event"]) for e in sub.json_on(topic)}
    assert wait_until(lambda: wanted <= seen(), timeout=60), sorted(wanted - seen())

    # In order: the first delivery of each message follows the episodes' order, start before end.
    firsts = []
    for e in sub.json_on(topic):
        key = (e["id"], 0 if e["event"] == "start" else 1)
        if key not in firsts:
            firsts.append(key)
    assert firsts == sorted(firsts), firsts
    # What arrived says what /api/anomalies says.
    by_key = {(e["id"], e["event"]): e for e in sub.json_on(topic)}
    for e in raised:
        end = by_key[(e["id"], "end")]
        assert abs(end["start"] - e["start"]) < 1e-6 and abs(end["end"] - e["end"]) < 1e-6 and end["kinds"] == e["kinds"]
    # At least once, not many times: a message is repeated only if it was in flight at the cut.
    assert len(sub.json_on(topic)) <= len(set(by_key)) + 4


def make_certificates(directory):
    d = str(directory)
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, cwd=d)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=voltwatch test CA",
        "-keyout", "ca.key", "-out", "ca.pem")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-out", "server.pem", "-extfile", "san.ext")
    os.chmod(os.path.join(d, "server.key"), 0o644)
    return {"ca": os.path.join(d, "ca.pem"), "cert": os.path.join(d, "server.pem"), "key": os.path.join(d, "server.key")}


def test_tls_with_a_wrong_password_is_refused_and_the_agent_goes_on(tmp_path, agents, subscribers):
    tls = make_certificates(tmp_path)
    broker = Broker(tmp_path, passwords={"gw": "right horse", "watcher": "w"}, tls=tls)
    try:
        sub = Subscriber(broker, ["voltwatch/#"], username="watcher", password="w", ca=tls["ca"])
        subscribers.append(sub)
        wrong = tmp_path / "wrong-password"
        wrong.write_text("battery staple\n")
        bad = MQTTAgent({"mqtt": {"url": broker.url, "gateway_id": "bad", "username": "gw", "password_file": str(wrong),
                                  "ca_file": tls["ca"], "discovery": False}})
        agents.append(bad)
        assert wait_until(lambda: "refused the connection" in bad.log_text(), timeout=15), bad.log_text()
        line = next(l for l in bad.log_text().splitlines() if "refused the connection" in l)
        assert "not authori" in line.lower() and "password_file" in line
        assert "battery staple" not in bad.log_text()
        # It keeps scoring and serving its own clients.
        import agentkit
        s, head, rest = agentkit.raw_handshake(bad.port)
        assert " 101 " in head.splitlines()[0]
        enough = lambda fr: sum(b"anomaly_result" in p for _, p in fr) >= 3  # noqa: E731
        frames, _closed = agentkit.read_server_frames(s, bytearray(rest), done=enough)
        s.close()
        assert enough(frames), "no results on /ws while the broker refuses the agent"

        right = tmp_path / "right-password"
        right.write_text("right horse\n")
        good = MQTTAgent({"mqtt": {"url": broker.url, "gateway_id": "good", "username": "gw", "password_file": "mqtt-password",
                                   "ca_file": tls["ca"], "protocol": "5", "discovery": False}},
                         env={"CREDENTIALS_DIRECTORY": str(tmp_path)})
        agents.append(good)
        os.link(right, tmp_path / "mqtt-password")
        assert wait_until(lambda: sub.on("voltwatch/good/fake/result"), timeout=20), good.log_text()
        assert sub.on("voltwatch/good/status")[-1:] == ["online"]
        assert not sub.on("voltwatch/bad/status")
    finally:
        broker.stop()


HA_SENSOR_KEYS = {"name", "state_topic", "unique_id", "object_id", "value_template", "unit_of_measurement", "device_class",
                  "state_class", "availability_topic", "payload_available", "payload_not_available", "device", "entity_category"}
HA_BINARY_KEYS = {"name", "state_topic", "unique_id", "object_id", "value_template", "payload_on", "payload_off", "device_class",
                  "availability_topic", "payload_available", "payload_not_available", "device", "entity_category"}
HA_DEVICE_KEYS = {"identifiers", "name", "manufacturer", "model", "sw_version", "connections", "hw_version",
                  "suggested_area", "via_device", "configuration_url"}
HA_SENSOR_CLASSES = {"voltage", "current", "power", "temperature", "battery", "energy"}
HA_BINARY_CLASSES = {"problem", "connectivity", "power", "battery", "running"}


def test_home_assistant_discovery_announces_and_removes(broker, agents, subscribers):
    sub = Subscriber(broker, ["homeassistant/#", "voltwatch/#"])
    subscribers.append(sub)
    agent = MQTTAgent({"mqtt": {"url": broker.url, "gateway_id": "ha"}}, "--channels", "2")
    agents.append(agent)

    def configs():
        return {t: p for t, p, _ in sub.snapshot() if t.startswith("homeassistant/") and t.endswith("/config")}
    assert wait_until(lambda: len(configs()) >= 8, timeout=20), configs()
    found = configs()
    components = {}
    for topic, payload in found.items():
        parts = topic.split("/")
        assert len(parts) == 5 and parts[0] == "homeassistant" and parts[2] == "voltwatch_ha", topic
        config = json.loads(payload)
        component = parts[1]
        components.setdefault(component, []).append(config)
        allowed = HA_SENSOR_KEYS if component == "sensor" else HA_BINARY_KEYS
        assert set(config) <= allowed, (topic, set(config) - allowed)
        for key in ("state_topic", "unique_id", "name", "availability_topic", "device"):
            assert key in config, (topic, key)
        assert config["availability_topic"] == "voltwatch/ha/status"
        assert set(config["device"]) <= HA_DEVICE_KEYS and config["device"]["manufacturer"] == "voltwatch"
        assert config["device"]["identifiers"] and config["device"]["sw_version"]
        if "device_class" in config:
            assert config["device_class"] in (HA_SENSOR_CLASSES if component == "sensor" else HA_BINARY_CLASSES)
        if component == "binary_sensor":
            assert config["payload_on"] == "ON" and config["payload_off"] == "OFF"
        # The state topic is one the agent really publishes.
        assert wait_until(lambda: sub.on(config["state_topic"]) or config["state_topic"].endswith("/anomaly"), timeout=10), config
    assert len(components["sensor"]) == 4 and len(components["binary_sensor"]) == 4
    assert len({c["unique_id"] for cs in components.values() for c in cs}) == 8
    voltage = [c for c in components["sensor"] if c.get("device_class") == "voltage"]
    assert len(voltage) == 2 and all(c["unit_of_measurement"] == "V" for c in voltage)
    assert {c["device_class"] for c in components["binary_sensor"]} == {"problem", "connectivity"}
    # Retained: a subscriber that comes later (Home Assistant restarting) gets them all.
    late = Subscriber(broker, ["homeassistant/#"])
    subscribers.append(late)
    assert wait_until(lambda: {t for t, _, r in late.snapshot() if r} == set(found)), late.snapshot()

    # Discovery turned off (SIGHUP): each entity is removed with an empty retained payload.
    agent.write_settings({"mqtt": {"url": broker.url, "gateway_id": "ha", "discovery": False}})
    agent.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: all("" in sub.on(t) for t in found), timeout=15)
    assert wait_until(lambda: sub.on("voltwatch/ha/status")[-1:] == ["online"], timeout=15), "reconnected after the reload"


def test_sighup_starts_publishing_and_moves_to_a_new_prefix(broker, agents, subscribers):
    sub = Subscriber(broker, ["#"])
    subscribers.append(sub)
    agent = MQTTAgent({})
    agents.append(agent)
    assert wait_until(lambda: len(agent.anomalies()) >= 0)
    assert not sub.snapshot(), "nothing is published without a broker in the settings"

    agent.write_settings({"mqtt": {"url": broker.url, "gateway_id": "late", "discovery": False, "result_rate": 2}})
    agent.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: len(sub.on("voltwatch/late/fake/result")) >= 6, timeout=20), agent.log_text()
    assert sub.on("voltwatch/late/status") == ["online"] and sub.on("voltwatch/late/fake/state")
    results = sub.json_on("voltwatch/late/fake/result")
    gaps = [b["timestamp"] - a["timestamp"] for a, b in zip(results, results[1:])]
    assert min(gaps) >= 0.45, f"result_rate 2 thins to one result per 0.5 s: {gaps}"

    agent.write_settings({"mqtt": {"url": broker.url, "prefix": "site/b", "discovery": False}})
    agent.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: sub.on("voltwatch/late/status")[-1:] == ["offline"] and sub.on("site/b/fake/result"), timeout=20)
    assert sub.on("site/b/status") == ["online"]


def test_a_stream_gone_for_good_is_removed_from_home_assistant(broker, agents, subscribers):
    sub = Subscriber(broker, ["homeassistant/#", "voltwatch/#"])
    subscribers.append(sub)

    def config_topics(stream_slug):
        return {t for t, p, _ in sub.snapshot() if f"/voltwatch_gone/{stream_slug}_" in t and p}

    # A single-signal board is announced, then the agent stops (its entities stay retained).
    first = MQTTAgent({"mqtt": {"url": broker.url, "gateway_id": "gone"}})
    agents.append(first)
    assert wait_until(lambda: len(config_topics("fake")) == 4, timeout=20), sub.snapshot()
    old = config_topics("fake")
    first.stop()
    # The board comes back with two channels: "fake" itself never sends again. After
    # forget_after_hours (here 0.003 h, 10.8 s) its four entities are removed; the new ones stay.
    second = MQTTAgent({"mqtt": {"url": broker.url, "gateway_id": "gone", "forget_after_hours": 0.003}}, "--channels", "2")
    agents.append(second)
    assert wait_until(lambda: len(config_topics("fake_A0")) == 4, timeout=20)
    assert wait_until(lambda: all(sub.on(t)[-1:] == [""] for t in old), timeout=30), second.log_text()
    assert "fake sent nothing for 0.003 h" in second.log_text()
    assert all(json.loads(sub.on(t)[-1]) for t in config_topics("fake_A0"))
    # The board's retained state stays: two of its streams are alive.
    assert sub.on("voltwatch/gone/fake/state")[-1] != ""
