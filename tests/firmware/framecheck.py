"""Reads voltwatch frames from a serial device or pty with nothing but os/termios.

Used by the firmware end-to-end test and by hand:

    python3 tests/firmware/framecheck.py /tmp/voltsim-tty --seconds 10

prints every line with its checksum verdict and a summary. pyserial is not needed.
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


def parse(line: bytes) -> dict | None:
    """Parses one `$...*CS` line (no terminator); None if it is not a valid frame."""
    if len(line) < 4 or line[:1] != b"$" or line[-3:-2] != b"*":
        return None
    body = line[1:-3]
    try:
        cs = int(line[-2:], 16)
    except ValueError:
        return None
    if checksum(body) != cs:
        return None
    fields = body.decode("ascii", "replace").split(",")
    if fields[0] == "VOLT" and len(fields) == 5:
        return {"tag": "VOLT", "seq": int(fields[1]), "uptime_ms": int(fields[2]),
                "adc_raw": int(fields[3]), "volts": float(fields[4]), "volts_text": fields[4]}
    if fields[0] == "HELLO" and len(fields) == 7:
        return {"tag": "HELLO", "firmware": fields[1], "version": fields[2], "board": fields[3],
                "vref_mv": int(fields[4]), "adc_bits": int(fields[5]), "period_ms": int(fields[6])}
    return None


def open_raw(path: str) -> int:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[4] = attrs[5] = termios.B115200
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
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
    args = ap.parse_args()
    fd = open_raw(args.device)
    good = bad = 0
    last_seq = None
    gaps = []
    for t, line in read_lines(fd, args.seconds):
        frame = parse(line)
        if frame is None:
            bad += 1
        else:
            good += 1
            if frame["tag"] == "VOLT":
                if last_seq is not None and frame["seq"] != last_seq + 1:
                    gaps.append((last_seq, frame["seq"]))
                last_seq = frame["seq"]
            elif frame["tag"] == "HELLO":
                last_seq = None
        if not args.quiet:
            print(f"{t:.3f} {'ok ' if frame else 'BAD'} {line.decode('ascii', 'replace')}")
    print(f"frames ok: {good}, invalid: {bad}, seq gaps: {gaps}")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
