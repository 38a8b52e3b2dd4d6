"""A request line or headers over the parser's limit get 431 at once, with the reason as
JSON, instead of a connection that hangs until the idle timeout; the agent keeps serving."""
import json
import select
import socket
import time

import pytest


def send_until_answered(port, request, timeout=10):
    """Sends `request`, stopping as soon as the server answers; returns the status line and
    the JSON body. The timeout only bounds a failure."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setblocking(False)
    sent, answer, end = 0, b"", time.monotonic() + timeout
    try:
        while time.monotonic() < end and b"\r\n\r\n" not in answer:
            writable = [s] if sent < len(request) else []
            readable, writable, _ = select.select([s], writable, [], max(0.0, end - time.monotonic()))
            if readable:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                answer += chunk
            elif writable:
                try:
                    sent += s.send(request[sent:sent + 65536])
                except (BrokenPipeError, ConnectionResetError):
                    sent = len(request)    # the server stopped reading; its answer may be on its way
        head, _, body = answer.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length and time.monotonic() < end:
            select.select([s], [], [], max(0.0, end - time.monotonic()))
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        return head.split(b"\r\n")[0].decode(), json.loads(body) if body else None
    finally:
        s.close()


@pytest.mark.parametrize("what, request_bytes", [
    ("a 90 KB query", b"GET /api/health?q=" + b"a" * 90_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("a 4 MB header", b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 4_000_000 + b"\r\n\r\n"),
], ids=["90-KB-query", "4-MB-header"])
def test_an_oversized_request_head_gets_431_at_once(make_agent, what, request_bytes):
    agent = make_agent()
    status, body = send_until_answered(agent.port, request_bytes)
    assert status.startswith("HTTP/1.1 431"), f"{what}: {status}"
    assert "80 KB" in body["error"], body
    assert agent.get("/api/health")[0] == 200, "the agent stopped serving"


def test_a_malformed_request_gets_400_with_the_reason(make_agent):
    agent = make_agent()
    status, body = send_until_answered(agent.port, b"\x16\x03\x01garbage that is no HTTP\r\n\r\n")
    assert status.startswith("HTTP/1.1 400"), status
    assert "malformed HTTP request" in body["error"], body
