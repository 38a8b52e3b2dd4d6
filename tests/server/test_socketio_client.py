"""A python-socketio client on the websocket transport (tests/server/test_socketio_transports.py has polling)."""
import threading

import socketio


def test_socketio_client_receives_results_and_gets_its_voltage_scored(agent):
    client = socketio.Client(reconnection=False)
    results = []
    hello = threading.Event()
    got_fake = threading.Event()
    got_app = threading.Event()

    @client.on("hello")
    def on_hello(data):
        assert data["version"]
        assert "anomaly_threshold" in data["config"]
        hello.set()

    @client.on("anomaly_result")
    def on_result(data):
        results.append(data)
        if data["device"] == "app":
            got_app.set()
        elif len([r for r in results if r["device"] != "app"]) >= 3:
            got_fake.set()

    client.connect(f"http://{agent.base}", transports=["websocket"], wait_timeout=5)
    try:
        assert hello.wait(5)
        assert got_fake.wait(5), "no anomaly_result from the fake device"
        for key in ("anomaly_score", "is_anomaly", "confidence", "timestamp", "voltage",
                    "device", "seq", "severity", "kinds", "reasons"):
            assert key in results[0]
        client.emit("voltage_data", {"voltage": 2.47})
        assert got_app.wait(5), "no answer to voltage_data"
        answer = [r for r in results if r["device"] == "app"][0]
        assert answer["voltage"] == 2.47
    finally:
        client.disconnect()


def test_socketio_ack_and_simulation_controls(agent):
    client = socketio.Client(reconnection=False)
    client.connect(f"http://{agent.base}", transports=["websocket"], wait_timeout=5)
    try:
        answer = client.call("voltage_data", {"voltage": 1.5}, timeout=5)
        assert answer["device"] == "app" and answer["voltage"] == 1.5
        stopped = client.call("stop_simulation", timeout=5)
        assert stopped == {}
        started = client.call("start_simulation", {"speed": 1}, timeout=5)
        assert started["speed"] == 1
    finally:
        client.disconnect()
