"""RFC 6455 rules for what a client sends, from a raw socket: an unmasked frame fails the
connection with 1002 (§5.1), a text message that is not UTF-8 with 1007 (§8.1); a masked
message in fragments is still read whole. Each hostile client is closed alone: the others are
still served."""
import json
import os
import socket
import time

from agentkit import raw_handshake as handshake, read_server_frames as read_frames

PING_REQUEST = json.dumps({"event": "voltage_data", "data": {"voltage": 2.5}}).encode()


def frame(opcode, payload, fin=True, masked=True):
    """One client frame (payloads under 126 bytes)."""
    assert len(payload) < 126
    head = bytes([(0x80 if fin else 0) | opcode, (0x80 if masked else 0) | len(payload)])
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def never(frames):
    return False


def app_results(frames):
    return [json.loads(p)["data"] for o, p in frames
            if o == 0x1 and json.loads(p)["event"] == "anomaly_result" and json.loads(p)["data"].get("device") == "app"]


def close_code(frames):
    closes = [payload for opcode, payload in frames if opcode == 0x8]
    return int.from_bytes(closes[0][:2], "big") if closes else None


def events(frames):
    return [json.loads(payload)["event"] for opcode, payload in frames if opcode == 0x1]


def connect(agent):
    s, head, rest = handshake(agent.port)
    assert head.startswith("HTTP/1.1 101"), head
    return s, bytearray(rest)


def test_an_unmasked_frame_closes_the_connection_with_1002_and_is_not_acted_on(make_agent):
    agent = make_agent()
    s, buf = connect(agent)
    s.sendall(frame(0x1, PING_REQUEST, masked=False))
    frames, closed = read_frames(s, buf, never)
    assert close_code(frames) == 1002, frames[-3:]
    assert closed, "the server must close the connection"
    assert app_results(frames) == [], "the unmasked request was acted on"
    s.close()


def test_invalid_utf8_in_a_text_message_closes_the_connection_with_1007(make_agent):
    agent = make_agent()
    s, buf = connect(agent)
    s.sendall(frame(0x1, b'{"event":"voltage_data","data":{"voltage":"\xff\xfe"}}'))
    frames, closed = read_frames(s, buf, never)
    assert close_code(frames) == 1007, frames[-3:]
    assert closed
    assert "error" not in events(frames), "the connection is failed, not answered with an error event"
    s.close()


def test_a_masked_message_in_fragments_is_read_whole_and_answered(make_agent):
    agent = make_agent()
    s, buf = connect(agent)
    half = len(PING_REQUEST) // 2
    s.sendall(frame(0x1, PING_REQUEST[:half], fin=False) + frame(0x0, PING_REQUEST[half:]))
    frames, closed = read_frames(s, buf, app_results)
    assert not closed and app_results(frames), "no answer to a fragmented request"
    assert app_results(frames)[0]["voltage"] == 2.5
    s.sendall(frame(0x8, (1000).to_bytes(2, "big")))
    frames, closed = read_frames(s, buf, never)
    assert close_code(frames) == 1000 and closed
