"""Restart keeps history (issue 19): the episodes and aggregates an agent served before it was
stopped are served by the next agent on the same --data-dir, the signal around each episode
too, and episode ids go on from the stored ones instead of starting at 1 again."""
import time

from historykit import Buckets, ms, stored_seconds, wait_until


def closed_episodes(agent):
    return {e["id"]: e for e in agent.json("/api/anomalies?device=fake")["anomalies"] if not e["open"]}


def test_episodes_and_aggregates_survive_a_restart_and_ids_go_on(lab):
    data_dir = lab.data_dir()
    # Spikes ten times as fast as a real board sends them (the scenario runs on frame time):
    # a few closed episodes within seconds.
    args = ("--fake-period-ms", "10")
    first = lab.agent(*args, scenario="spikes", data_dir=data_dir)
    started_ms = int(time.time() * 1000)
    first_ws = lab.recorder(first)
    first_ws.wait_count(300)
    assert wait_until(lambda: len(closed_episodes(first)) >= 1), first.json("/api/anomalies")

    # A time before which every bucket is complete and in the store: a flush began after it.
    cut_ms = (int(time.time() * 1000) // 1000) * 1000
    first.wait_writes(2)
    query = f"/api/history?device=fake&from={started_ms / 1000}&to={cut_ms / 1000}&step=1"
    seconds_before = first.json(query)
    assert sum(p[4] for p in seconds_before["points"]) >= 100, seconds_before
    episodes_before = closed_episodes(first)
    assert len(episodes_before) >= 1, episodes_before
    first.stop()  # SIGTERM: the last flush ends open episodes and writes their context
    assert first.proc.returncode == 0, first.log_text()[-2000:]
    assert wait_until(first_ws.closed.is_set)
    stopped_ms = int(time.time() * 1000)
    # Everything the first agent kept, read from the file it left.
    seconds = stored_seconds(first.db_path)
    minutes = stored_seconds(first.db_path, table="minutes")
    assert sum(r[0] for r in seconds.values()) == sum(r[0] for r in minutes.values()) > 0
    # A stop loses nothing: the last flush wrote every second the client saw to its end.
    received = Buckets(first_ws.snapshot()).rows
    last_ms = ms(first_ws.snapshot()[-1]["timestamp"])
    first_full = min(received) + 1000
    complete = [t for t in received if first_full <= t and t + 1000 <= last_ms - last_ms % 1000]
    assert complete and all(seconds.get(t, [0])[0] == received[t][0] for t in complete), \
        {t: (received[t][0], seconds.get(t, [0])[0]) for t in complete}
    assert seconds[last_ms - last_ms % 1000][0] >= received[last_ms - last_ms % 1000][0]

    second = lab.agent(*args, scenario="spikes", data_dir=data_dir)
    # Served from the store, as the first agent served them.
    assert second.json(query) == seconds_before
    whole_run = second.json(f"/api/history?device=fake&from={started_ms / 1000 - 1}&to={stopped_ms / 1000}&step=1")
    assert [p[0] * 1000 for p in whole_run["points"]] == sorted(seconds), "every second the first agent stored"
    assert [(p[4], p[1], p[2]) for p in whole_run["points"]] == [(r[0], r[2], r[3]) for r in seconds.values()]
    # Per minute: what the first agent stored, plus whatever the second adds to the minute it
    # starts in (a minute's row merges both).
    by_minute = {p[0] * 1000: p for p in second.json(
        f"/api/history?device=fake&from={started_ms / 1000 - 60}&to={stopped_ms / 1000 + 60}&step=60")["points"]}
    for t, row in minutes.items():
        assert t in by_minute and by_minute[t][4] >= row[0], (t, row, by_minute.get(t))
    after = {e["id"]: e for e in second.json("/api/anomalies?device=fake&limit=1000")["anomalies"]}
    for id, episode in episodes_before.items():
        assert after.get(id) == episode, f"episode {id} before the restart: {episode}\nafter: {after.get(id)}"
    # Each stored episode kept the signal around it (30 s before its onset, bounded by when the
    # first agent started, to 30 s after its end, bounded by when it stopped).
    for id, episode in episodes_before.items():
        context = second.json(f"/api/episode?device=fake&id={id}")
        assert context["episode"] == episode
        times = [p[0] for p in context["points"]]
        assert times == sorted(times) and times[0] < episode["start"] and times[-1] > episode["end"], (id, times[:3], times[-3:])
        assert any(p[3] == 1 for p in context["points"])

    # The new agent's episodes number on from the stored ones (its results say so, and the
    # store lists them beside the old ones).
    second_ws = lab.recorder(second)
    last_id = max(after)
    assert wait_until(lambda: any(r["episode"] is not None for r in second_ws.snapshot())), "the second agent never reported an episode"
    assert all(r["episode"] > last_id for r in second_ws.snapshot() if r["episode"] is not None), last_id
    second.wait_writes(1)
    listed = {e["id"] for e in second.json("/api/anomalies?device=fake&limit=1000")["anomalies"]}
    assert set(after) <= listed and min(listed - set(after)) == last_id + 1, (sorted(listed), last_id)

    # The aggregates of the first run are still there, untouched by the second's writes.
    assert second.json(query) == seconds_before
