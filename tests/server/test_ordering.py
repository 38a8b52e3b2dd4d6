"""Every client gets every result exactly once, in order, from the first one its `hello` did
not cover, whichever thread writes it: the event loop, or the serial reader itself (which
writes to the clients of the loop on its own CPU and of loops with few clients).

It holds whether the sends go out in one io_uring call per pass or one `send(2)` each: the
second run denies `io_uring_setup` with EPERM through a seccomp filter, as a container's
profile may (the systemd unit allows it), and the agent must fall back without losing a result."""
import asyncio
import json
import os
import time

import pytest
import websockets

from agentkit import seccomp_filter

IO_URING_SETUP = 425        # the same number on every Linux architecture (added after 5.0)


def io_uring_descriptors(pid):
    count = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{name}") == "anon_inode:[io_uring]"
        except OSError:
            pass
    return count


def kernel_allows_io_uring():
    try:
        with open("/proc/sys/kernel/io_uring_disabled") as f:
            return f.read().strip() == "0"
    except OSError:
        return True


@pytest.mark.parametrize("io_uring", ["allowed", "denied by seccomp"])
def test_every_client_gets_every_result_once_in_order_while_clients_join(make_agent, io_uring):
    # A fast fake board, and more clients than the reader writes to itself on a loop elsewhere,
    # so broadcasts go both ways and switch between them as the reader moves between CPUs.
    denied = io_uring != "allowed"
    agent = make_agent("--fake-period-ms", "1", preexec_fn=seccomp_filter([IO_URING_SETUP]) if denied else None)

    async def client(delay, seconds):
        await asyncio.sleep(delay)
        async with websockets.connect(f"ws://{agent.base}/ws") as ws:
            hello = json.loads(await ws.recv())
            assert hello["event"] == "hello"
            covered = [r["seq"] for r in hello["data"]["recent"] if r["device"] != "app"]
            seqs = []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                message = json.loads(await asyncio.wait_for(ws.recv(), 2))
                if message["event"] == "anomaly_result" and message["data"]["device"] != "app":
                    seqs.append(message["data"]["seq"])
                assert message["event"] != "missed", "a well-behaved client was told it missed results"
            return covered, seqs

    async def run():
        # Forty clients (more than the reader writes to itself on two loops; enough to keep the
        # machine busy, so loops run late and deliveries overlap), joining over
        # the first second, each listening for two seconds.
        return await asyncio.gather(*(client(i * 0.025, 2) for i in range(40)))

    results = asyncio.run(run())
    # Which path the sends took: the rings stay open as long as the threads that made them.
    rings = io_uring_descriptors(agent.proc.pid)
    if denied:
        assert rings == 0, f"io_uring_setup is denied, yet the agent holds {rings} rings"
        assert agent.proc.poll() is None, "the agent died under the filter"
    elif kernel_allows_io_uring():
        assert rings >= 1, "the kernel allows io_uring, yet no thread sent through a ring"
    for index, (covered, seqs) in enumerate(results):
        assert len(seqs) > 100, f"client {index} got only {len(seqs)} results in 2 s at 1 kHz"
        steps = [b - a for a, b in zip(seqs, seqs[1:])]
        assert all(step == 1 for step in steps), \
            f"client {index}: results out of order, repeated or missing: {[s for s in steps if s != 1][:10]}"
        if covered:
            assert seqs[0] == covered[-1] + 1, \
                f"client {index}: hello covered up to {covered[-1]}, the first broadcast was {seqs[0]}"
