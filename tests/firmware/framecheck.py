"""Reads voltwatch frames from a serial device or pty with nothing but os/termios.

Used by the firmware end-to-end test and by hand:

    python3 tests/firmware/framecheck.py /tmp/voltsim-tty --seconds 10
    python3 tests/firmware/framecheck.py /dev/ttyACM0 --send 'SET,A0+A1+A2,100' --seconds 5

prints every line with its checksum verdict and a summary. --send sends a command (checksum
and line end added) as soon as the board has sent its first valid line: opening the port
resets an Uno or Nano, and its bootloader would swallow a command sent during the ~1 s boot.
pyserial is not needed.
"""
from __future__ import annotations

import argparse
import os
import select
import termios
import time
import tty


def checksum(body: bytes) -> int:
    s = 0
    for b in body:
        s ^= b
    return s


CHANNELS = ("A0", "A1", "A2", "A3", "A4", "A5")


def sentence(body: str) -> bytes:
    """`$<body>*CS\r\n`: a line to send the board, e.g. sentence("SET,A0+A1+A2,100")."""
    return b"$" + body.encode("ascii") + b"*%02X\r\n" % checksum(body.encode("ascii"))


def _uint(text: str) -> int:
    if not text.isdigit() or not text.isascii():
        raise ValueError(text)
    return int(text)


def _volts(text: str) -> float:
    whole, dot, frac = text.partition(".")
    if not (dot and len(frac) == 3 and whole.isdigit() and frac.isdigit()):
        raise ValueError(text)
    return float(text)


def _channel_set(names: list[str]) -> list[str]:
    """1..6 distinct channel names, ascending, or ValueError."""
    if not 1 <= len(names) <= len(CHANNELS) or any(n not in CHANNELS for n in names) \
            or names != sorted(set(names)):
        raise ValueError(names)
    return names


def parse(line: bytes) -> dict | None:
    """Parses one `$...*CS` line (no terminator); None if it is not a valid frame.

    $VOLT (one channel, A0), $VOLTS (1..6 channels: "channels" is a list of dicts with ch,
    adc_raw, volts, volts_text, ascending), $HELLO (7 fields; firmware 1.0.0's 6 fields mean
    channels ["A0"]) and $ERR (reason).
    """
    if len(line) < 4 or len(line) > 128 - 2 or line[:1] != b"$" or line[-3:-2] != b"*":
        return None
    body = line[1:-3]
    cs_text = line[-2:]
    if not all(c in b"0123456789ABCDEF" for c in cs_text) or checksum(body) != int(cs_text, 16):
        return None
    fields = body.decode("ascii", "replace").split(",")
    try:
        if fields[0] == "VOLT" and len(fields) == 5:
            return {"tag": "VOLT", "seq": _uint(fields[1]), "uptime_ms": _uint(fields[2]),
                    "adc_raw": _uint(fields[3]), "volts": _volts(fields[4]), "volts_text": fields[4]}
        if fields[0] == "VOLTS" and len(fields) >= 6 and (len(fields) - 3) % 3 == 0:
            triples = [fields[i:i + 3] for i in range(3, len(fields), 3)]
            _channel_set([t[0] for t in triples])
            return {"tag": "VOLTS", "seq": _uint(fields[1]), "uptime_ms": _uint(fields[2]),
                    "channels": [{"ch": ch, "adc_raw": _uint(raw), "volts": _volts(v), "volts_text": v}
                                 for ch, raw, v in triples]}
        if fields[0] == "HELLO" and len(fields) in (7, 8):
            return {"tag": "HELLO", "firmware": fields[1], "version": fields[2], "board": fields[3],
                    "vref_mv": _uint(fields[4]), "adc_bits": _uint(fields[5]), "period_ms": _uint(fields[6]),
                    "channels": _channel_set(fields[7].split("+")) if len(fields) == 8 else ["A0"]}
        if fields[0] == "ERR" and len(fields) == 2 and fields[1] and not set(fields[1]) & set("*$,"):
            return {"tag": "ERR", "reason": fields[1]}
    except ValueError:
        return None
    return None


def open_raw(path: str, flush: bool = True) -> int:
    """Opens a serial device raw at 115200. `flush`: drop stale bytes from before the open
    (not wanted when the other side starts talking only once it is opened)."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[4] = attrs[5] = termios.B115200
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    if flush:
        termios.tcflush(fd, termios.TCIOFLUSH)  # stale bytes from before we opened
    return fd


def read_lines(fd: int, seconds: float):
    """Yields (receive_time, line_bytes) for `seconds`, or until EOF/EIO."""
    buf = b""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        r, _, _ = select.select([fd], [], [], min(left, 0.2))
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            continue
        except OSError:  # EIO: the other side closed
            return
        if not chunk:
            return
        now = time.time()
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield now, line.rstrip(b"\r")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("device")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--send", metavar="BODY", action="append", default=[],
                    help="send $BODY*CS (e.g. 'SET,A0+A1,100') once the board has sent a valid line; repeatable")
    args = ap.parse_args()
    fd = open_raw(args.device)
    to_send = list(args.send)
    good = bad = 0
    last_seq = None
    gaps = []
    for t, line in read_lines(fd, args.seconds):
        frame = parse(line)
        if frame is None:
            bad += 1
        else:
            good += 1
            if frame["tag"] in ("VOLT", "VOLTS"):
                if last_seq is not None and frame["seq"] != last_seq + 1:
                    gaps.append((last_seq, frame["seq"]))
                last_seq = frame["seq"]
            elif frame["tag"] == "HELLO":
                last_seq = None
        if not args.quiet:
            print(f"{t:.3f} {'ok ' if frame else 'BAD'} {line.decode('ascii', 'replace')}")
        if frame is not None and to_send:
            for body in to_send:
                os.write(fd, sentence(body))
                if not args.quiet:
                    print(f"{time.time():.3f} >>> {sentence(body).decode().rstrip()}")
            to_send = []
    print(f"frames ok: {good}, invalid: {bad}, seq gaps: {gaps}")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
