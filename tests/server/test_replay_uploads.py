"""`POST /api/replay` under load: uploads are scored as they arrive (memory does not grow with
the upload), at most two at once (the next gets 503 with Retry-After and a reason), and a
place is given back when an upload ends, however it ends."""
import socket
import time

CSV_ROW = "%d,%.3f\n"


def csv_rows(start, count):
    return "".join(CSV_ROW % (1_700_000_000_000 + i * 100, 2.5 + (i % 7) * 0.001) for i in range(start, start + count)).encode()


def open_chunked_upload(port, path="/api/replay?summary=1"):
    """Starts a chunked upload and sends its first rows; returns the socket."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: text/csv\r\n\r\n".encode())
    send_chunk(s, b"timestamp,voltage\n" + csv_rows(0, 100))
    return s


def send_chunk(s, data):
    s.sendall(b"%x\r\n" % len(data) + data + b"\r\n")


def finish(s, timeout=60):
    """Ends the upload and returns the status line and body."""
    s.sendall(b"0\r\n\r\n")
    s.settimeout(timeout)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
        if length and len(body) >= length[0]:
            break
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), body


def wait_for(predicate, timeout=30):
    """Polls the agent's own report until `predicate` holds; the timeout bounds a failure."""
    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:
        time.sleep(0.02)
    return predicate()


def test_a_third_upload_while_two_are_scored_gets_503_then_a_place_frees(make_agent):
    agent = make_agent()
    first, second = open_chunked_upload(agent.port), open_chunked_upload(agent.port)
    assert wait_for(lambda: agent.status()["uploads"]["in_progress"] == 2), agent.status()["uploads"]
    assert agent.status()["uploads"]["max"] == 2

    third = socket.create_connection(("127.0.0.1", agent.port))
    body = b"timestamp,voltage\n1700000000000,2.5\n"
    third.sendall(b"POST /api/replay HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    third.settimeout(10)
    answer = third.recv(65536)
    third.close()
    assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
    assert b"retry-after: 5" in answer.lower(), answer[:400]
    assert b"uploads are being scored already" in answer, answer

    status, body = finish(first)
    assert status.startswith("HTTP/1.1 200"), (status, body)
    assert b'"samples":100' in body, body
    assert wait_for(lambda: agent.status()["uploads"]["in_progress"] == 1)
    # A client that hangs up mid-upload gives its place back too.
    second.close()
    assert wait_for(lambda: agent.status()["uploads"]["in_progress"] == 0), agent.status()["uploads"]


def test_a_large_upload_is_scored_as_it_arrives_in_bounded_memory(make_agent):
    agent = make_agent()
    before = agent.rss_kb()
    s = open_chunked_upload(agent.port)
    rows, sent = 100, 0
    while sent < 40 * 1024 * 1024:       # 40 MB, about 1.6 million rows
        chunk = csv_rows(rows, 20_000)
        send_chunk(s, chunk)
        rows, sent = rows + 20_000, sent + len(chunk)
    status, body = finish(s, timeout=300)
    assert status.startswith("HTTP/1.1 200"), (status, body[:300])
    assert f'"samples":{rows}'.encode() in body, body[:300]
    grew_mb = (agent.rss_kb() - before) / 1024
    assert grew_mb < 30, f"the agent grew by {grew_mb:.0f} MB scoring a 40 MB upload: it is holding the upload"
