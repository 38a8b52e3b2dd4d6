"""One client script, run against a Flask-SocketIO backend like the original
(tests/flask_reference/app.py) and against voltwatch: the event streams must have the same
shape, so an app written for the original works unchanged.

voltwatch may add fields (device, seq, severity, kinds, reasons) and events the original never
sent (hello, device_status); every field the original sent must be there with the same JSON
type."""
import subprocess
import sys
import threading

import pytest
import socketio

from agentkit import ROOT, free_port, wait_until

ORIGINAL_FIELDS = ("anomaly_score", "is_anomaly", "confidence", "timestamp", "voltage")


def client_script(url, transports):
    """What an app does: connect, listen, send a few samples of its own, disconnect."""
    client = socketio.Client(reconnection=False)
    live, answers = [], []
    enough = threading.Event()

    @client.on("anomaly_result")
    def on_result(data):
        (answers if data.get("device", "app").startswith("app") and data["voltage"] in (2.5, 9.9) and len(live) >= 3
         else live).append(data)
        if len(answers) >= 4:
            enough.set()

    kwargs = {} if transports is None else {"transports": transports}
    client.connect(url, wait_timeout=5, **kwargs)
    transport = client.transport()
    assert wait_until(lambda: len(live) >= 3, timeout=10), "no live anomaly_result"
    for volts in (2.5, 2.5, 2.5, 9.9):
        client.emit("voltage_data", {"voltage": volts})
    assert enough.wait(10), "no answers to voltage_data"
    client.disconnect()
    return transport, live[:3], answers[:4]


def json_type(v):
    """JSON's types, as a JavaScript app sees them: 0 and 0.0 are both numbers."""
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


def shape(value):
    return {k: json_type(v) for k, v in value.items() if k in ORIGINAL_FIELDS}


@pytest.fixture
def reference():
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/flask_reference/app.py"), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket

    def listening():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    assert wait_until(listening, timeout=15), "the Flask reference did not start"
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(5)


@pytest.mark.parametrize("transports", [None, ["polling"], ["websocket"]], ids=["default", "polling", "websocket"])
def test_the_same_script_sees_the_same_shapes(reference, agent, transports):
    ref_transport, ref_live, ref_answers = client_script(reference, transports)
    our_transport, our_live, our_answers = client_script(f"http://{agent.base}", transports)
    assert our_transport == ref_transport
    for ours, theirs in ((our_live, ref_live), (our_answers, ref_answers)):
        assert [shape(o) for o in ours] == [shape(t) for t in theirs]
        for o in ours:
            assert set(ORIGINAL_FIELDS) <= set(o)
    # Both flag 9.9 V after three samples of 2.5 V, and not the three.
    assert [a["is_anomaly"] for a in ref_answers] == [False, False, False, True]
    assert [a["is_anomaly"] for a in our_answers] == [False, False, False, True]
