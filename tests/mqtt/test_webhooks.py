"""Alert webhooks: a receiver that fails the first attempts gets the alert after the retries;
a flapping signal is held to the configured rate."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import MQTTAgent, wait_until


class Receiver:
    """An HTTP server in a thread that answers 500 to the first `failures` POSTs, then 204, and
    records (status answered, body)."""

    def __init__(self, failures=0):
        self.posts = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                with receiver.lock:
                    status = 500 if len(receiver.posts) < failures else 204
                    receiver.posts.append((status, self.path, self.headers.get("Content-Type"), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self):
        with self.lock:
            return [json.loads(body) for status, _, _, body in self.posts if status == 204]

    def attempts(self):
        with self.lock:
            return len(self.posts)

    def close(self):
        self.server.shutdown()


def test_an_alert_arrives_after_the_receiver_failed_the_first_attempts(agents):
    receiver = Receiver(failures=3)
    try:
        template = '{"title": "{name} {event}", "message": "{kinds} ({severity}) peak {peak}: {reasons}", "id": {id}}'
        agent = MQTTAgent({"webhooks": [{"url": receiver.url, "template": template, "min_interval_seconds": 0}]})
        agents.append(agent)
        # 1 s, 2 s, 4 s of backoff: the fourth attempt is accepted.
        assert wait_until(lambda: receiver.accepted(), timeout=60), agent.log_text()
        first = receiver.accepted()[0]
        assert receiver.attempts() >= 4
        assert first["title"] == "fake start" and first["message"].startswith(("spike", "dip"))
        assert "retrying" in agent.log_text() and "answered HTTP 500" in agent.log_text()
        # Its end follows, in order, and says the same episode.
        assert wait_until(lambda: len(receiver.accepted()) >= 2, timeout=60)
        second = receiver.accepted()[1]
        assert second["title"] == "fake end" and second["id"] == first["id"]
        episode = next(e for e in agent.anomalies() if e["id"] == first["id"])
        assert not episode["open"]
    finally:
        receiver.close()


def test_the_default_body_is_the_episode_json(agents):
    receiver = Receiver()
    try:
        agent = MQTTAgent({"webhooks": [{"url": receiver.url, "min_interval_seconds": 0}]})
        agents.append(agent)
        assert wait_until(lambda: len(receiver.accepted()) >= 2, timeout=60)
        start, end = receiver.accepted()[:2]
        assert start["event"] == "start" and end["event"] == "end" and start["id"] == end["id"]
        listed = next(e for e in agent.anomalies() if e["id"] == end["id"])
        for key in ("device", "id", "start", "end", "duration_seconds", "peak_score", "severity", "kinds", "reasons", "samples", "open"):
            assert end[key] == listed[key] or (isinstance(end[key], float) and abs(end[key] - listed[key]) < 1e-6), key
    finally:
        receiver.close()


def test_a_flapping_signal_is_rate_limited(agents):
    receiver = Receiver()
    try:
        # A spike every 5-15 s; at most one alert (its start and end) per device an hour.
        agent = MQTTAgent({"webhooks": [{"url": receiver.url, "min_interval_seconds": 3600}]})
        agents.append(agent)
        assert wait_until(lambda: len(receiver.accepted()) >= 2, timeout=60)
        # Two more episodes ended after the first: neither may be sent.
        first_id = receiver.accepted()[0]["id"]
        assert wait_until(lambda: len([e for e in agent.anomalies() if e["id"] > first_id and not e["open"]]) >= 2, timeout=90)
        assert [(a["event"], a["id"]) for a in receiver.accepted()] == [("start", first_id), ("end", first_id)]
    finally:
        receiver.close()
