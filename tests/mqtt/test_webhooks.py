"""Alert webhooks: a receiver that fails the first attempts gets the alert after the retries;
a flapping signal is held to the configured rate."""
import json
import os
import signal
import sqlite3
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import MQTTAgent, wait_until
from test_mqtt_publish import make_certificates


class Receiver:
    """An HTTP server in a thread that answers 500 to the first `failures` POSTs, then 204, and
    records (status answered, body)."""

    def __init__(self, failures=0, tls=None, port=0):
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

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls["cert"], tls["key"])
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://localhost:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self, path=None):
        with self.lock:
            return [json.loads(body) for status, at, _, body in self.posts if status == 204 and path in (None, at)]

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


def test_an_https_receiver_with_a_private_ca_gets_the_alert_once_trusted(tmp_path, agents):
    tls = make_certificates(tmp_path)
    receiver = Receiver(tls=tls)
    try:
        hook = {"url": receiver.url, "min_interval_seconds": 0}
        agent = MQTTAgent({"webhooks": [hook]})
        agents.append(agent)
        # The system's trust roots do not know the test's CA: refused, said, kept for a retry.
        assert wait_until(lambda: "TLS failed" in agent.log_text(), timeout=60), agent.log_text()
        assert "ca_file" in agent.log_text() and receiver.attempts() == 0
        # The webhook's own CA, read on SIGHUP: the waiting alert goes through, then the rest.
        agent.write_settings({"webhooks": [dict(hook, ca_file=tls["ca"])]})
        agent.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: len(receiver.accepted()) >= 2, timeout=60), agent.log_text()
        first, second = receiver.accepted()[:2]
        assert (first["event"], second["event"]) == ("start", "end") and first["id"] == second["id"]
    finally:
        receiver.close()


def outbox_rows(path):
    with sqlite3.connect(path) as db:
        return db.execute("SELECT target, body FROM outbox ORDER BY seq").fetchall()


def test_alerts_wait_in_the_history_store_across_a_restart(agents):
    receiver = Receiver()
    url = receiver.url
    port = receiver.server.server_address[1]
    receiver.close()
    receiver.server.server_close()
    # The receiver is down: the alerts wait in the history store, not in a file of their own.
    agent = MQTTAgent({"webhooks": [{"url": url, "min_interval_seconds": 0}]})
    agents.append(agent)
    store = os.path.join(agent.data_dir, "history.sqlite")
    assert wait_until(lambda: os.path.exists(store) and len(outbox_rows(store)) >= 2, timeout=60), agent.log_text()
    assert not os.path.exists(os.path.join(agent.data_dir, "outbox.sqlite"))
    agent.stop()
    waiting = [json.loads(body) for _, body in outbox_rows(store)]
    # An outbox file left by a run without history moves into the store, in order, after them.
    legacy = os.path.join(agent.data_dir, "outbox.sqlite")
    with sqlite3.connect(legacy) as db:
        db.execute("""CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL,
            device TEXT NOT NULL, topic TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_ms INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL)""")
        db.execute("INSERT INTO outbox (target, device, topic, body, created_ms) VALUES (?, 'old', '', ?, 0)",
                   (url, '{"event": "legacy"}'))
    # The receiver is back (same port) and the agent restarts on the same data directory, with a
    # webhook that is not the old one: what was promised is still delivered.
    receiver = Receiver(port=port)
    try:
        restarted = MQTTAgent({"webhooks": [{"url": url + "-new", "min_interval_seconds": 0}]}, data_dir=agent.data_dir)
        agents.append(restarted)
        assert wait_until(lambda: len(receiver.accepted("/hook")) >= len(waiting) + 1, timeout=60), restarted.log_text()
        delivered = receiver.accepted("/hook")
        assert [(d["event"], d.get("id")) for d in delivered if d["event"] != "legacy"] == [(w["event"], w["id"]) for w in waiting]
        assert delivered.count({"event": "legacy"}) == 1
        assert not os.path.exists(legacy)
        assert wait_until(lambda: all(target != url for target, _ in outbox_rows(store)), timeout=10)
        assert "moved 1 undelivered" in restarted.log_text()
    finally:
        receiver.close()
