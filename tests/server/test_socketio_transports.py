"""Real python-socketio clients on every transport an app may use: the default (long-polling,
as socket.io-client in a browser or React Native starts), polling only, and websocket only.

Each must get `hello`, the live `anomaly_result`s, and its own `voltage_data` answers; a
polling client that stops polling is dropped after the ping timeout."""
import json
import threading
import urllib.error
import urllib.request

import pytest
import socketio

from agentkit import wait_until

TOKEN = "sio-s3cret"
TRANSPORTS = {"default": None, "polling": ["polling"], "websocket": ["websocket"]}


def connect(agent, transports, token=TOKEN):
    client = socketio.Client(reconnection=False)
    events = {"hello": threading.Event(), "live": threading.Event()}

    @client.on("hello")
    def on_hello(data):
        events["hello"].set()

    @client.on("anomaly_result")
    def on_result(data):
        if data["device"] == "fake":
            events["live"].set()

    kwargs = {} if transports is None else {"transports": transports}
    client.connect(f"http://{agent.base}", auth={"token": token}, wait_timeout=5, **kwargs)
    return client, events


@pytest.mark.parametrize("name", TRANSPORTS)
def test_every_transport_gets_results_and_its_own_answers(make_agent, name):
    agent = make_agent("--token", TOKEN)
    low, low_events = connect(agent, TRANSPORTS[name])
    high, _ = connect(agent, TRANSPORTS[name])
    try:
        # The default client opens with polling and upgrades, as socket.io-client does.
        assert low.transport() == ("polling" if name == "polling" else "websocket")
        assert low_events["hello"].wait(5), "no hello"
        assert low_events["live"].wait(5), "no anomaly_result from the fake device"
        # Two apps, two levels, one scorer each: neither disturbs the other.
        for _ in range(30):
            a = low.call("voltage_data", {"voltage": "1.0"}, timeout=5)
            b = high.call("voltage_data", {"voltage": 3.0}, timeout=5)
            assert a["device"] == "app" and a["voltage"] == 1.0 and not a["is_anomaly"]
            assert b["device"] == "app" and b["voltage"] == 3.0 and not b["is_anomaly"]
        wild = low.call("voltage_data", {"voltage": 9.9, "device": "probe"}, timeout=5)
        assert wild["device"] == "app:probe"
        clients = agent.status(token=TOKEN)["clients"]
        assert clients["socketio"] == 2
    finally:
        low.disconnect()
        high.disconnect()
    assert wait_until(lambda: agent.status(token=TOKEN)["clients"]["connected"] == 0)


def test_polling_refuses_a_wrong_token_with_the_reason(make_agent):
    agent = make_agent("--token", TOKEN)
    client = socketio.Client(reconnection=False)
    reasons = []
    client.on("connect_error", lambda data: reasons.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(f"http://{agent.base}", transports=["polling"], auth={"token": "wrong"}, wait_timeout=5)
    assert reasons == [{"message": "the token is not valid"}]


def raw(agent, method, query, body=None):
    request = urllib.request.Request(f"http://{agent.base}/socket.io/?EIO=4&transport=polling{query}",
                                     method=method, data=body)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def test_packets_are_batched_and_binary_is_refused(make_agent):
    agent = make_agent()
    open_packet = raw(agent, "GET", "")
    assert open_packet.startswith("0{")
    sid = json.loads(open_packet[1:])["sid"]
    # Two packets in one POST, separated by \x1e: connect, then a binary attachment.
    assert raw(agent, "POST", f"&sid={sid}", b'40\x1ebAQID') == "ok"
    packets = []
    while not any("binary attachments" in p for p in packets):
        packets += raw(agent, "GET", f"&sid={sid}").split("\x1e")
    assert packets[0].startswith('40{"sid":')
    assert any(p.startswith('42["hello"') for p in packets)
    assert raw(agent, "POST", f"&sid={sid}", b'41') == "ok"


def test_an_upgrade_of_a_joined_session_loses_and_repeats_no_result(make_agent):
    from websockets.sync.client import connect as ws_connect
    agent = make_agent()
    sid = json.loads(raw(agent, "GET", "")[1:])["sid"]
    raw(agent, "POST", f"&sid={sid}", b"40")
    seqs = []

    def take(packets):
        for p in packets:
            if p.startswith('42["anomaly_result"'):
                data = json.loads(p[2:])[1]
                if data["device"] == "fake":
                    seqs.append(data["seq"])

    # Joined over polling, results flowing...
    while len(seqs) < 3:
        take(raw(agent, "GET", f"&sid={sid}").split("\x1e"))
    # ...then a poll waits while the client moves to a websocket, as python-engineio does.
    poll = {}
    waiter = threading.Thread(target=lambda: poll.update(text=raw(agent, "GET", f"&sid={sid}")))
    waiter.start()
    with ws_connect(f"ws://{agent.base}/socket.io/?EIO=4&transport=websocket&sid={sid}") as ws:
        ws.send("2probe")
        assert ws.recv(timeout=5) == "3probe"
        ws.send("5")
        waiter.join(10)
        take(poll["text"].split("\x1e"))
        while len(seqs) < 20:
            message = ws.recv(timeout=5)
            if message == "2":
                ws.send("3")
            take([message])
        assert ws.send("41") is None
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    # The polling session is gone: the websocket has it.
    with pytest.raises(urllib.error.HTTPError):
        raw(agent, "GET", f"&sid={sid}")


def test_a_client_that_stops_polling_is_dropped_after_the_ping_timeout(make_agent):
    agent = make_agent("--ping-interval", "0.5")
    sid = json.loads(raw(agent, "GET", "")[1:])["sid"]
    raw(agent, "POST", f"&sid={sid}", b"40")
    assert raw(agent, "GET", f"&sid={sid}").startswith('40{"sid":')
    assert agent.status()["clients"]["socketio"] == 1
    # No more polls: the ping goes unanswered and the session is closed, hub entry and all.
    assert wait_until(lambda: agent.status()["clients"]["socketio"] == 0, timeout=10)
    with pytest.raises(urllib.error.HTTPError) as gone:
        raw(agent, "GET", f"&sid={sid}")
    assert gone.value.code == 400
