"""With a token configured, every endpoint but /api/health refuses missing or wrong tokens."""
import asyncio
import json
import urllib.error
import urllib.request

import pytest
import socketio
import websockets

TOKEN = "correct-horse-battery-staple"


@pytest.fixture
def secured(make_agent, tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return make_agent("--token-file", str(path))


def http_status(agent, path, token=None, query_token=None):
    url = f"http://{agent.base}{path}" + (f"?token={query_token}" if query_token else "")
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as e:
        body = json.loads(e.read())
        assert "error" in body and TOKEN not in body["error"]
        return e.code


@pytest.mark.parametrize("path", ["/api/status", "/api/anomalies", "/api/model", "/metrics"])
def test_http_endpoints(secured, path):
    assert http_status(secured, path) == 401
    assert http_status(secured, path, token="wrong") == 401
    assert http_status(secured, path, token=TOKEN) == 200
    assert http_status(secured, path, query_token=TOKEN) == 200


def test_health_needs_no_token(secured):
    assert http_status(secured, "/api/health") == 200


def test_ws_endpoint(secured):
    async def refused(url, **kwargs):
        async with websockets.connect(url, **kwargs) as ws:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message["event"] == "error"
            try:
                await asyncio.wait_for(ws.recv(), 5)
                raise AssertionError("connection should close")
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd.code == 1008

    async def accepted(url, **kwargs):
        async with websockets.connect(url, **kwargs) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["event"] == "hello"

    base = f"ws://{secured.base}/ws"
    asyncio.run(refused(base))
    asyncio.run(refused(base + "?token=wrong"))
    asyncio.run(accepted(base + f"?token={TOKEN}"))
    asyncio.run(accepted(base, additional_headers={"Authorization": f"Bearer {TOKEN}"}))


def test_socketio_endpoint(secured):
    for auth in (None, {"token": "wrong"}):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(f"http://{secured.base}", transports=["websocket"], auth=auth, wait_timeout=5)
        client.disconnect()
    client = socketio.Client(reconnection=False)
    client.connect(f"http://{secured.base}", transports=["websocket"], auth={"token": TOKEN}, wait_timeout=5)
    assert client.connected
    client.disconnect()
    # The token may also ride in the handshake query, as browsers without auth payloads do.
    client = socketio.Client(reconnection=False)
    client.connect(f"http://{secured.base}?token={TOKEN}", transports=["websocket"], wait_timeout=5)
    assert client.connected
    client.disconnect()


def test_token_never_logged(secured):
    secured.stop()
    assert TOKEN not in secured.log_text()
