"""Every client gets every result exactly once, in order, from the first one its `hello` did
not cover, while clients join on every event loop and a fast board publishes from the serial
reader's thread: the hub numbers each broadcast under its lock, and each loop delivers them in
that order."""
import asyncio
import json

import websockets


CLIENT_RESULTS = 2000


def key(result):
    """What tells one published result from another, even if the board's own numbering jumps
    (a line lost while the host stalls) or restarts (the fake board reconnects)."""
    return result["seq"], result["timestamp"], result["voltage"]


def test_every_client_gets_every_result_once_in_order_while_clients_join(make_agent):
    # A fast fake board, so broadcasts are in flight on every loop while clients join.
    agent = make_agent("--fake-period-ms", "1")

    last_keys = []  # each client's last result, once it is done

    async def client(delay, count=None, until=None, listening=None):
        """Listens for `count` results, or (the observer) until the event `until` is set and it
        has seen every client's last result; sets `listening` once its hello is in."""
        await asyncio.sleep(delay)
        async with websockets.connect(f"ws://{agent.base}/ws", open_timeout=30) as ws:
            hello = json.loads(await ws.recv())
            assert hello["event"] == "hello"
            covered = [key(r) for r in hello["data"]["recent"] if r["device"] != "app"]
            if listening is not None:
                listening.set()
            got, seen = [], set()

            def listened_enough():
                if until is None:
                    return len(got) >= count
                return until.is_set() and all(k in seen for k in last_keys)

            while not listened_enough():
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if message["event"] == "anomaly_result" and message["data"]["device"] != "app":
                    got.append(key(message["data"]))
                    seen.add(got[-1])
                assert message["event"] != "missed", "a well-behaved client was told it missed results"
            if until is None:
                last_keys.append(got[-1])
            return covered, got

    async def run():
        # An observer that listens until the last client is done (however late a loaded machine
        # lets them connect), and forty clients (enough to keep the machine busy, so loops run
        # late and deliveries overlap), joining over the first second, each listening for 2,000
        # results (two seconds at 1 kHz; longer on a loaded machine, whose board runs slower).
        done, listening = asyncio.Event(), asyncio.Event()
        observer = asyncio.create_task(client(0, until=done, listening=listening))
        await listening.wait()
        try:
            clients = await asyncio.gather(*(client(0.1 + i * 0.025, CLIENT_RESULTS) for i in range(40)))
        finally:
            done.set()
        return await observer, clients

    (_, published), clients = asyncio.run(run())
    position = {k: i for i, k in enumerate(published)}
    assert len(position) == len(published), "the observer got a result twice"
    for index, (covered, got) in enumerate(clients):
        assert got[0] in position, f"client {index}: its first result never reached the observer"
        start = position[got[0]]
        # Every result once, in the order published, none missing: the same run as the observer's.
        overlap = published[start:start + len(got)]
        assert got == overlap, \
            f"client {index}: results out of order, repeated or missing against the observer's stream"
        # The first broadcast is the first one its hello did not cover.
        if covered and covered[-1] in position:
            assert start == position[covered[-1]] + 1, \
                f"client {index}: hello covered up to {covered[-1]}, the first broadcast was {got[0]}"
