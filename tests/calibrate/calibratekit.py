"""What the calibrate tests drive: a board played through a pty, the agent reading it, and a
tmux session to type into.

- `PtyBoard`: a pty whose master end the test writes `$VOLTS` frames to, ten a second, A0 at
  2.5 V and A1 at whatever `set_a1()` last said; the agent opens the slave end as a board.
- `PtyAgent`: `voltwatch run --device <pty> --settings FILE` on a free loopback port; `stream`
  is the A1 stream's id as the agent names it (discovered from /api/status, never assumed).
- `Tmux`: a private tmux server (its own socket, no user configuration) running one command in
  a detached session; `screen()` is what the person would see, `type()` what they type.
"""
import json
import os
import select
import shlex
import signal
import subprocess
import threading
import time
import urllib.request

from agentkit import EVENT_TIMEOUT, free_port, wait_until


def sentence(body):
    """`$<body>*CS`: CS is the XOR of the bytes between `$` and `*`, two upper-case hex digits."""
    checksum = 0
    for byte in body.encode():
        checksum ^= byte
    return f"${body}*{checksum:02X}"


def volts_frame(seq, readings):
    """`$VOLTS,<seq>,<uptime_ms>,A0,<adc>,<volts>,A1,<adc>,<volts>*CS` for [(channel, volts)]."""
    fields = ",".join(f"{channel},{round(v / 5.0 * 1023)},{v:.3f}" for channel, v in readings)
    return sentence(f"VOLTS,{seq},{seq * 100},{fields}")


class PtyBoard:
    """A two-channel board on a pty: frames every 100 ms from a thread, A1's pin voltage settable."""

    def __init__(self, a1=1.0):
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self._a1 = a1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pty-board", daemon=True)
        self._thread.start()

    def set_a1(self, volts):
        with self._lock:
            self._a1 = volts

    def _run(self):
        seq = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                a1 = self._a1
            try:
                os.write(self.master, (volts_frame(seq, [("A0", 2.5), ("A1", a1)]) + "\r\n").encode())
            except OSError:
                return
            seq += 1
            next_at += 0.1
            # Drain whatever comes back (the pty's echo before the agent makes it raw) while
            # waiting for the next period, so the pty's buffers never fill.
            while True:
                left = next_at - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    break
                readable, _, _ = select.select([self.master], [], [], left)
                if readable:
                    try:
                        os.read(self.master, 4096)
                    except OSError:
                        pass

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        os.close(self.master)
        os.close(self.slave)


class PtyAgent:
    """`voltwatch run` reading `device`, serving on a free loopback port."""

    def __init__(self, binary, device, settings, log_path):
        self.port = free_port()
        self.settings = settings
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [binary, "run", "--device", device, "--reset-delay-ms", "0", "--settings", str(settings),
             "--port", str(self.port), "--host", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=self.log)
        self.stream = None
        assert wait_until(self._a1_stream, timeout=EVENT_TIMEOUT), f"no A1 stream: {self.log_text()}"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def status(self):
        with urllib.request.urlopen(f"{self.url}/api/status", timeout=5) as response:
            return json.loads(response.read())

    def stream_status(self, stream):
        return next((d for d in self.status()["devices"] if d["device"] == stream), None)

    def _a1_stream(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"voltwatch run exited with {self.proc.returncode}: {self.log_text()}")
        try:
            devices = self.status()["devices"]
        except OSError:
            return False
        for d in devices:
            if d.get("channel") == "A1" and d.get("results", 0) > 0:
                self.stream = d["device"]
                return True
        return False

    def log_text(self):
        self.log.flush()
        return self.log_path.read_text()

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Tmux:
    """A private tmux server; one detached session, 100x40, that stays on screen after its
    command exits (remain-on-exit) so the test can read the last words; the exit status is
    written to a file."""

    def __init__(self, tmp_path):
        # A socket of its own (by name, under /tmp/tmux-UID/: a path in tmp_path could exceed
        # the 108 bytes a Unix socket's path may have), so no other tmux is touched.
        self.socket = f"voltwatch-calibrate-{os.getpid()}-{id(self):x}"
        self.conf = tmp_path / "tmux.conf"
        self.conf.write_text("set -g remain-on-exit on\nset -g history-limit 10000\n")
        self.status_file = tmp_path / "calibrate.status"
        self.session = "calibrate"
        self.started = False

    def _tmux(self, *args, check=True):
        return subprocess.run(["tmux", "-L", self.socket, "-f", str(self.conf), *args],
                              capture_output=True, text=True, timeout=30, check=check)

    def start(self, argv):
        # The shell writes the command's exit status to a file: tmux's #{pane_dead_status} is
        # only known once tmux has reaped the process, which it may do later than it shows
        # the pane dead.
        command = shlex.join([str(a) for a in argv]) + f"; echo $? > {shlex.quote(str(self.status_file))}"
        self._tmux("new-session", "-d", "-s", self.session, "-x", "100", "-y", "40", command)
        self.started = True

    def screen(self):
        """The pane's text, history included, wrapped lines joined."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-t", self.session).stdout

    def wait_for(self, predicate, what):
        """Waits until `predicate(screen)` holds; fails naming `what` and showing the screen."""
        ok = wait_until(lambda: predicate(self.screen()), timeout=EVENT_TIMEOUT, interval=0.05)
        assert ok, f"waited for {what}; the screen shows:\n{self.screen()}"

    def wait_for_text(self, text):
        self.wait_for(lambda screen: text in screen, repr(text))

    def type(self, text):
        """Types `text` literally, then Enter."""
        if text:
            self._tmux("send-keys", "-t", self.session, "-l", text)
        self._tmux("send-keys", "-t", self.session, "Enter")

    def exit_status(self):
        """The command's exit status once it exited, else None."""
        try:
            text = self.status_file.read_text()
        except FileNotFoundError:
            return None
        return int(text) if text.endswith("\n") else None

    def wait_exit(self):
        assert wait_until(lambda: self.exit_status() is not None, timeout=EVENT_TIMEOUT), \
            f"calibrate did not exit; the screen shows:\n{self.screen()}"
        return self.exit_status()

    def stop(self):
        if self.started:
            self._tmux("kill-server", check=False)
