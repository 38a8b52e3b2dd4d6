"""kill -9 during a 10 Hz run (issue 19): what the store holds afterwards matches the results a
client received, up to at most 1 s before the kill.

A /ws client records every `anomaly_result`; the agent gets SIGKILL (no shutdown, no last
flush); Python's sqlite3 opens the file it left (recovering its WAL) and reads the `seconds`
table. Every complete second older than kill - 1 s must hold exactly what the client got:
the same count, min, max and anomalies, the sum within float tolerance."""
import math

from historykit import Buckets, ms, stored_seconds, wait_until


def test_kill_9_loses_at_most_the_last_second(lab):
    data_dir = lab.data_dir()
    agent = lab.agent(scenario="spikes", data_dir=data_dir)  # the fake board at 10 Hz
    client = lab.recorder(agent)
    client.wait_count(1)
    first_ms = ms(client.snapshot()[0]["timestamp"])
    # The first second the client saw from its start (it may have joined mid-second).
    from_ms = first_ms - first_ms % 1000 + 1000
    # Run until the client holds several complete seconds the store must have, with a few
    # flushes done.
    client.wait_count(60)
    agent.wait_writes(3)

    killed_ms = agent.kill9()
    assert wait_until(client.closed.is_set), "the client never saw the connection end"
    assert client.error is None and client.missed == 0, (client.error, client.missed)
    received = Buckets(client.snapshot()).rows
    stored = stored_seconds(agent.db_path)

    must_hold = [t for t in received if from_ms <= t and t + 1000 <= killed_ms - 1000]
    assert len(must_hold) >= 3, (sorted(received), killed_ms)
    for t in must_hold:
        got, kept = received[t], stored.get(t)
        assert kept is not None, f"second {t} ({killed_ms - t} ms before the kill) is not in the store"
        assert kept[0] == got[0], f"second {t}: {kept[0]} results stored, {got[0]} received"
        assert math.isclose(kept[1], got[1], rel_tol=1e-12, abs_tol=1e-9), (t, kept, got)
        assert (kept[2], kept[3], kept[4]) == (got[2], got[3], got[4]), (t, kept, got)
    # Nothing the client did not get: no second from the future, no count above what arrived.
    for t, kept in stored.items():
        assert t < killed_ms
        if t >= from_ms:
            assert kept[0] <= received.get(t, [0])[0], (t, kept, received.get(t))
    # Seconds and minutes are written in one transaction: the kill cut both at the same flush.
    minutes = stored_seconds(agent.db_path, table="minutes")
    assert sum(r[0] for r in stored.values()) == sum(r[0] for r in minutes.values())

    # The next agent opens the file the kill left and goes on writing it.
    again = lab.agent(scenario="spikes", data_dir=data_dir)
    health = again.wait_writes(1)
    assert health["state"] == "ok" and health["failures"] == 0, health
    points = again.json(f"/api/history?device=fake&from={from_ms / 1000}&to={killed_ms / 1000}&step=1")["points"]
    # (The second the kill fell in may also hold the new agent's first results.)
    assert {int(p[0] * 1000): p[4] for p in points if p[0] * 1000 + 1000 <= killed_ms} == \
        {t: r[0] for t, r in stored.items() if from_ms <= t and t + 1000 <= killed_ms}
