"""What the MQTT tests share: a real Debian `mosquitto` broker on a free loopback port (its
configuration written by the test: anonymous, password file, TLS), a paho-mqtt subscriber that
records every message, and agents started through tests/agentkit.py with a settings file.

Tests wait for messages and events (`wait_until`), never for a fixed time.
"""
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import agentkit  # noqa: E402
from agentkit import free_port, wait_until  # noqa: E402,F401

import paho.mqtt.client as mqtt  # noqa: E402

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Broker:
    """`mosquitto -c CONF` on 127.0.0.1:PORT; `stop()` and `start()` keep the port."""

    def __init__(self, directory, passwords=None, tls=None):
        self.dir = pathlib.Path(directory)
        self.port = free_port()
        self.tls = tls
        lines = [f"listener {self.port} 127.0.0.1", "per_listener_settings false"]
        if os.geteuid() == 0:
            # Started as root, mosquitto would drop to its own user, who cannot read the test's
            # private temporary directory (password file, certificates).
            lines.append("user root")
        if passwords:
            pw = self.dir / "passwords"
            pw.write_text("")
            for user, password in passwords.items():
                subprocess.run(["mosquitto_passwd", "-b", str(pw), user, password], check=True)
            os.chmod(pw, 0o644)
            lines += ["allow_anonymous false", f"password_file {pw}"]
        else:
            lines += ["allow_anonymous true"]
        if tls:
            lines += [f"cafile {tls['ca']}", f"certfile {tls['cert']}", f"keyfile {tls['key']}"]
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        self.log_path = self.dir / "mosquitto.log"
        self.proc = None
        self.start()

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf), "-v"], stdout=self.log, stderr=self.log)

        def listening():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                return False
        assert wait_until(listening, timeout=10), self.log_path.read_text()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()

    @property
    def url(self):
        return f"{'mqtts' if self.tls else 'mqtt'}://{'localhost' if self.tls else '127.0.0.1'}:{self.port}"


class Subscriber:
    """A paho-mqtt client subscribed to `topics` that records (topic, payload, retained) and
    reconnects (and resubscribes) by itself when the broker comes back."""

    def __init__(self, broker, topics=("#",), username=None, password=None, ca=None):
        self.messages = []
        self.lock = threading.Lock()
        self.topics = topics
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{free_port()}")
        if username:
            self.client.username_pw_set(username, password)
        if ca:
            self.client.tls_set(ca_certs=ca)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.connect("localhost" if ca else "127.0.0.1", broker.port, keepalive=5)
        self.client.loop_start()
        assert self.connected.wait(10), "the test's subscriber could not connect"

    def _on_connect(self, client, userdata, flags, reason, properties):
        if not reason.is_failure:
            for topic in self.topics:
                client.subscribe(topic, qos=1)
            self.connected.set()

    def _on_message(self, client, userdata, message):
        with self.lock:
            self.messages.append((message.topic, message.payload.decode(), bool(message.retain)))

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def on(self, topic):
        return [payload for t, payload, _ in self.snapshot() if t == topic]

    def json_on(self, topic):
        return [json.loads(p) for p in self.on(topic) if p]

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


class MQTTAgent(agentkit.Agent):
    """An agent whose settings file holds `settings` (an "mqtt" object and/or "webhooks")."""

    def __init__(self, settings, *extra, scenario="spikes", **kwargs):
        fd, self.settings_path = tempfile.mkstemp(prefix="voltwatch-settings-", suffix=".json")
        os.close(fd)
        self.write_settings(settings)
        super().__init__("--settings", self.settings_path, *extra, scenario=scenario, **kwargs)

    def write_settings(self, settings):
        pathlib.Path(self.settings_path).write_text(json.dumps(settings))

    def anomalies(self):
        with urllib.request.urlopen(self.url("/api/anomalies?device=fake"), timeout=5) as r:
            return json.loads(r.read())["anomalies"]


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path)
    yield b
    b.stop()


@pytest.fixture
def agents():
    started = []
    yield started
    for a in started:
        a.stop()


@pytest.fixture
def subscribers():
    made = []
    yield made
    for s in made:
        s.close()
