"""A minimal Flask-SocketIO backend shaped like the original one voltwatch replaces
(/work/shared/original's README: `voltage_data` in, `anomaly_result` out, a simulated Arduino
every 100 ms), so tests can run one client script against both and compare what comes back.

Run: python3 tests/flask_reference/app.py PORT
"""
import statistics
import sys
import time

from flask import Flask
from flask_socketio import SocketIO, emit

app = Flask(__name__)
# Events handled one at a time, in the order they came (as one eventlet worker would): with a
# thread per event, answers to a burst of samples could come back out of order.
socketio = SocketIO(app, cors_allowed_origins="*", async_mode="threading", async_handlers=False)
recent = []


def score(voltage):
    """The original's rule-based detection, in spirit: far from the recent mean is anomalous."""
    window = recent[-50:]
    if len(window) >= 3:
        mean = statistics.fmean(window)
        spread = max(statistics.pstdev(window), 0.05)
        anomaly_score = min(1.0, abs(voltage - mean) / (6 * spread))
    else:
        anomaly_score = 0.0
    recent.append(voltage)
    return {
        "anomaly_score": anomaly_score,
        "is_anomaly": anomaly_score >= 0.7,
        "confidence": min(1.0, len(window) / 50),
        "timestamp": time.time(),
        "voltage": voltage,
    }


@socketio.on("voltage_data")
def on_voltage_data(data):
    emit("anomaly_result", score(float(data["voltage"])))


def arduino():
    while True:
        socketio.sleep(0.1)
        # Not 2.5 V: a test script tells its answers from the live stream by the volts it sent.
        socketio.emit("anomaly_result", {"anomaly_score": 0.0, "is_anomaly": False, "confidence": 1.0,
                                         "timestamp": time.time(), "voltage": 3.3})


if __name__ == "__main__":
    socketio.start_background_task(arduino)
    socketio.run(app, host="127.0.0.1", port=int(sys.argv[1]), allow_unsafe_werkzeug=True)
