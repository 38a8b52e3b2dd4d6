"""Keep-alive and the handshake, seen from raw sockets and the `websockets` client: the server
pings, drops a client that stops answering, answers a client's ping, and refuses a handshake
it will not upgrade with a JSON error."""
import asyncio
import json
import os
import socket
import time

import websockets
from agentkit import EVENT_TIMEOUT, raw_handshake as handshake, read_server_frames as read_frames


def test_server_pings_and_drops_a_client_that_stops_answering(make_agent):
    agent = make_agent("--ping-interval", "0.5")
    silent, head, rest = handshake(agent.port)
    assert head.startswith("HTTP/1.1 101"), head
    frames, closed = read_frames(silent, bytearray(rest))
    opcodes = [op for op, _ in frames]
    assert opcodes[0] == 0x1 and b'"hello"' in frames[0][1]
    assert 0x1 in opcodes[1:], "results flow"
    assert opcodes.count(0x9) == 1, f"one ping, then dropped for not answering: {opcodes.count(0x9)} pings"
    assert closed, "a client that never answers pings is dropped"
    silent.close()


def test_a_client_that_answers_pings_stays_and_its_own_pings_are_answered(make_agent):
    agent = make_agent("--ping-interval", "0.3")

    async def run():
        # websockets answers the server's pings itself; its own keep-alive is off so only the
        # server's pings are in play.
        async with websockets.connect(f"ws://{agent.base}/ws", ping_interval=None) as ws:
            await ws.recv()
            end = time.monotonic() + 2.0  # several ping intervals
            while time.monotonic() < end:
                await asyncio.wait_for(ws.recv(), 2)
            # The server answers the client's own ping: the pong arrives (how fast is the
            # host's business; the deadline only bounds a failure).
            await asyncio.wait_for(await ws.ping(b"are you there"), EVENT_TIMEOUT)
            return ws.state

    assert asyncio.run(run()) == websockets.protocol.State.OPEN


def test_a_refused_handshake_gets_a_json_error(make_agent):
    agent = make_agent("--allowed-origin", "https://dash.example")

    s, head, body = handshake(agent.port, origin="https://evil.example")
    assert head.startswith("HTTP/1.1 403"), head
    assert "application/json" in head.lower()
    assert "https://evil.example" in json.loads(body)["error"]
    s.close()

    s, head, body = handshake(agent.port, path="/api/status")
    assert head.startswith("HTTP/1.1 404"), head
    assert "/ws" in json.loads(body)["error"]
    s.close()

    s, head, _ = handshake(agent.port, origin="https://dash.example")
    assert head.startswith("HTTP/1.1 101"), head
    s.close()


def test_garbage_after_the_handshake_closes_only_that_client_with_1002(make_agent):
    agent = make_agent()
    hostile, head, rest = handshake(agent.port)
    assert head.startswith("HTTP/1.1 101"), head
    # A frame with a reserved opcode (0x3), masked as a client must, then noise.
    hostile.sendall(bytes([0x83, 0x84, 1, 2, 3, 4, 9, 9, 9, 9]) + os.urandom(64))
    frames, closed = read_frames(hostile, bytearray(rest))
    close_frames = [payload for opcode, payload in frames if opcode == 0x8]
    assert close_frames and int.from_bytes(close_frames[0][:2], "big") == 1002, frames[-3:]
    assert closed, "the server closes the connection after a protocol error"
    hostile.close()

    async def still_served():
        async with websockets.connect(f"ws://{agent.base}/ws") as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 2))
            while (event := json.loads(await asyncio.wait_for(ws.recv(), 2))["event"]) == "device_status":
                pass  # the fake board may just have come up
            return hello["event"], event

    assert asyncio.run(still_served()) == ("hello", "anomaly_result")


def test_connections_that_send_nothing_are_closed_but_quiet_websocket_clients_stay(make_agent):
    agent = make_agent("--idle-timeout", "0.5", "--ping-interval", "0.3")
    silent = socket.create_connection(("127.0.0.1", agent.port))  # never sends a request
    slow = socket.create_connection(("127.0.0.1", agent.port))
    slow.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\n")  # and never finishes it
    idle_http = socket.create_connection(("127.0.0.1", agent.port))
    idle_http.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")  # then keeps the connection idle

    async def quiet_client():
        # Sends nothing after the handshake for 2 s: only its pong answers keep it.
        async with websockets.connect(f"ws://{agent.base}/ws", ping_interval=None) as ws:
            end = time.monotonic() + 2
            while time.monotonic() < end:
                await asyncio.wait_for(ws.recv(), 2)
            return True

    assert asyncio.run(quiet_client())
    for s, name in ((silent, "silent"), (slow, "unfinished request"), (idle_http, "idle keep-alive")):
        s.settimeout(2)
        data = b""
        try:
            while chunk := s.recv(4096):
                data += chunk
        except socket.timeout:
            raise AssertionError(f"the {name} connection was not closed")
        except ConnectionResetError:
            pass
        if name == "idle keep-alive":
            assert data.startswith(b"HTTP/1.1 200"), data[:40]
        s.close()
