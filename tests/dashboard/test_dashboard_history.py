"""The dashboard with history (issue 19): the chart's ranges filled from the agent's store, the
anomaly list seeded from stored episodes that open their own chart, the CSV export and the
summary, a stored history browsed with `voltwatch serve --db`, the 5-minute chart surviving an
agent restart, and the page as before when history is off.

Every wait is on a condition of the page or the agent, never on a fixed time. Screenshots land
in test-artifacts/ (dashboard-history.png: a day of a stored trace with an episode open).
"""
import json
import math
import os
import random
import subprocess
import time
import urllib.request

import pytest

from dashboard_agent import ROOT, Agent, Serve, voltwatch_binary

pytest.importorskip("selenium")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

DAY = 86_400
PERIOD = 2  # seconds between rows of the generated trace
DIPS = 8  # injected dips, spread over the day


def js(driver, expression):
    return driver.execute_script("return " + expression)


def until(driver, condition, what, timeout=30):
    """Waits (polling the page, never a fixed pause) until `condition(driver)` is truthy."""
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition, f"timed out waiting for {what}")


def wait_for(predicate, what, timeout=30):
    """Waits until `predicate()` is truthy (polling the agent); returns its value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


def api(agent, path):
    status, _, body = agent.get(path)
    assert status == 200, (path, status, body[:300])
    return json.loads(body)


def console_errors(driver):
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def drawn(driver, seconds, points=0):
    """The chart as last drawn, once drawn for this range with more than `points` points, else None."""
    view = js(driver, "voltwatch.view()")
    return view if view.get("range") == seconds and view["points"] > points else None


def open_page(driver, agent):
    driver.get(agent.url("/"))
    until(driver, lambda d: js(d, "window.voltwatch && voltwatch.connection()") == "live", "connection live")
    until(driver, lambda d: js(d, "voltwatch.history()") is not None, "the page to learn whether history is kept")


# ---- a day of a stored trace, browsed with `voltwatch serve --db` ---------------------------------

@pytest.fixture(scope="module")
def day(tmp_path_factory):
    """A trace of the last 24 h (a row every 2 s: a daily wave, a little noise, eight dips),
    replayed into a store. Its rows are 2 s apart, so it is scored at 0.5 samples a second."""
    folder = tmp_path_factory.mktemp("day")
    end_ms = int(time.time() * 1000)
    rows = DAY // PERIOD
    start_ms = end_ms - (rows - 1) * PERIOD * 1000
    noise = random.Random(19)
    dip_rows = {rows * (k + 1) // (DIPS + 1) + j for k in range(DIPS) for j in range(3)}
    lines = ["timestamp_ms,voltage"]
    for i in range(rows):
        v = 12.6 + 0.4 * math.sin(2 * math.pi * i / rows) + noise.gauss(0, 0.01) - (1.5 if i in dip_rows else 0)
        lines.append(f"{start_ms + i * PERIOD * 1000},{v:.4f}")
    trace = folder / "trace.csv"
    trace.write_text("\n".join(lines) + "\n")
    config = json.loads((ROOT / "config" / "model_config.json").read_text())
    config["sample_rate"] = 1 / PERIOD
    (folder / "config.json").write_text(json.dumps(config))
    db = folder / "day.sqlite"
    subprocess.run([voltwatch_binary(), "replay", "--config", str(folder / "config.json"), "--db", str(db), str(trace)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True, timeout=120)
    return {"db": db, "first": start_ms / 1000, "last": (start_ms + (rows - 1) * PERIOD * 1000) / 1000}


@pytest.fixture(scope="module")
def browsed(day):
    server = Serve(day["db"])
    yield server
    server.stop()


def test_a_stored_day_is_charted_listed_and_exported(browsed, day, chrome, artifacts):
    streams = api(browsed, "/api/history")["streams"]
    assert [s["device"] for s in streams] == ["trace"]
    stored = api(browsed, "/api/anomalies?limit=50")["anomalies"]
    assert len(stored) >= DIPS, stored

    chrome.get_log("browser")
    open_page(chrome, browsed)
    assert js(chrome, "voltwatch.history()") is True
    # No live device: the page follows the stored stream.
    until(chrome, lambda d: js(d, "voltwatch.browsing()") and js(d, "voltwatch.device()") == "trace",
          "the page to browse the stored stream")
    assert chrome.find_element(By.ID, "hist-ranges").is_displayed()

    # 24 h: the day's buckets (a minute each), from the trace's first minute to its last.
    chrome.find_element(By.CSS_SELECTOR, "#hist-ranges button[data-win='86400']").click()
    view = until(chrome, lambda d: drawn(d, DAY, 1000), "the chart to hold a day of buckets")
    assert view["to"] - view["from"] > 23.5 * 3600, view
    assert view["from"] <= day["first"] + 120 and view["to"] >= day["last"] - 120, (view, day)
    assert view["points"] <= 2000
    assert chrome.find_element(By.CSS_SELECTOR, "#hist-ranges button[data-win='86400']").get_attribute("aria-pressed") == "true"

    # 1 h: the last hour of it, finer; 7 d: the whole day again, coarser.
    chrome.find_element(By.CSS_SELECTOR, "#hist-ranges button[data-win='3600']").click()
    view = until(chrome, lambda d: drawn(d, 3600, 500), "an hour")
    assert 3000 < view["to"] - view["from"] <= 3600 and view["to"] >= day["last"] - 60, view
    chrome.find_element(By.CSS_SELECTOR, "#hist-ranges button[data-win='604800']").click()
    view = until(chrome, lambda d: drawn(d, 7 * DAY, 100), "a week")
    assert view["to"] - view["from"] > 23 * 3600, view
    chrome.find_element(By.CSS_SELECTOR, "#hist-ranges button[data-win='86400']").click()
    until(chrome, lambda d: drawn(d, DAY, 1000), "the day again")

    # The anomaly list is the stored episodes, newest first.
    # Drawn, not only known to the page: the list is redrawn on the next animation frame.
    until(chrome, lambda d: js(d, "voltwatch.anomalyCount()") == len(stored)
          and js(d, "document.querySelectorAll('#anomalies li').length") == len(stored), "the stored episodes listed")
    entries = chrome.find_elements(By.CSS_SELECTOR, "#anomalies li")
    assert len(entries) == len(stored)
    assert all("ep" in (li.get_attribute("class") or "") for li in entries), "each stored episode opens its chart"
    assert set(k.text for k in entries[0].find_elements(By.CSS_SELECTOR, ".kind")) & {"dip", "noise"}

    # Clicking one opens its chart: the signal 30 s either side, its anomalous samples marked.
    newest = stored[0]
    context = api(browsed, f"/api/episode?device=trace&id={newest['id']}")
    entries[0].click()
    # The hook answers once the episode is fetched; the chart is drawn on the next frame.
    until(chrome, lambda d: js(d, "voltwatch.episode()") and js(d, "voltwatch.episode().points") > 0
          and d.find_elements(By.CSS_SELECTOR, "#anomalies li[aria-expanded='true'] canvas.ep-chart"),
          "the episode's chart")
    episode = js(chrome, "voltwatch.episode()")
    assert episode["id"] == newest["id"]
    assert episode["points"] == len(context["points"])
    assert episode["marked"] == sum(1 for p in context["points"] if p[3]) > 0
    chart = chrome.find_element(By.CSS_SELECTOR, "#anomalies li[aria-expanded='true'] canvas.ep-chart")
    assert chart.is_displayed() and chart.size["height"] > 60
    assert js(chrome, "document.querySelectorAll('#anomalies canvas').length") == 1

    # The summary of the last 24 h, in words.
    until(chrome, lambda d: d.find_element(By.ID, "summary").text.startswith("Last 24 h:"), "the summary")
    assert "dip" in chrome.find_element(By.ID, "summary").text

    # The CSV export is a link to /api/anomalies as CSV, and it downloads.
    link = chrome.find_element(By.ID, "csv")
    assert link.is_displayed()
    href = link.get_attribute("href")
    assert link.get_attribute("download") is not None
    assert href.startswith(browsed.url("/api/anomalies?format=csv")), href
    with urllib.request.urlopen(href, timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in response.headers["Content-Disposition"]
        lines = response.read().decode().splitlines()
    assert lines[0].startswith("device,id,start,end,"), lines[0]
    assert len(lines) - 1 >= len(stored)

    chrome.save_screenshot(os.path.join(artifacts, "dashboard-history.png"))
    assert not console_errors(chrome), "console errors (CSP violations show here)"

    # Clicking the entry again closes its chart.
    chrome.find_elements(By.CSS_SELECTOR, "#anomalies li")[0].click()
    until(chrome, lambda d: js(d, "voltwatch.episode()") is None and
          not d.find_elements(By.CSS_SELECTOR, "#anomalies canvas"), "the episode's chart closed")


# ---- a live agent on its history ------------------------------------------------------------------

def test_the_five_minute_chart_keeps_what_came_before_a_restart(chrome, tmp_path):
    data = tmp_path / "data"
    agent = Agent("spikes", data_dir=str(data))
    try:
        # Let the agent store some seconds and an alarm (its store is written once a second).
        wait_for(lambda: len(api(agent, "/api/history?device=fake&step=1")["points"]) >= 8, "seconds stored")
        wait_for(lambda: api(agent, "/api/anomalies")["count"] > 0, "an anomaly stored")
        before = api(agent, "/api/history?device=fake&step=1")["points"]
    finally:
        agent.stop()
    restarted = time.time()
    agent = Agent("spikes", data_dir=str(data))
    try:
        open_page(chrome, agent)
        assert js(chrome, "voltwatch.history()") is True and not js(chrome, "voltwatch.browsing()")
        assert js(chrome, "voltwatch.range()") == 300
        # The 5-minute chart starts with the seconds the first agent stored, then goes on live.
        view = until(chrome, lambda d: (v := drawn(d, 300)) and v["from"] < restarted - 3 and v,
                     "points from before the restart")
        assert view["from"] <= before[0][0] + 1, (view, before[0])
        start = js(chrome, "voltwatch.pointCount()")
        until(chrome, lambda d: js(d, "voltwatch.view().to") > restarted and js(d, "voltwatch.pointCount()") > start + 5,
              "live points after the restart")
        # The alarm before the restart is listed from history.
        until(chrome, lambda d: js(d, "voltwatch.anomalyCount()") > 0, "the stored anomaly listed")
        assert chrome.find_element(By.ID, "hist-ranges").is_displayed()

        # A longer range is drawn from history too: the hour holds both runs.
        chrome.find_element(By.CSS_SELECTOR, "#hist-ranges button[data-win='3600']").click()
        until(chrome, lambda d: (v := drawn(d, 3600)) and v["from"] < restarted - 3, "the hour from history")
        # ... and goes on live: new samples land in the current bucket or a new one.
        last = js(chrome, "voltwatch.view().to")
        until(chrome, lambda d: js(d, "voltwatch.view().to") > last, "the hour extended live")
        assert not console_errors(chrome)
    finally:
        agent.stop()


def test_without_history_the_page_is_live_only(chrome):
    agent = Agent("spikes", extra_args=("--no-history",))
    try:
        status, _, body = agent.get("/api/history")
        assert status == 404 and "history is off" in json.loads(body)["error"]
        open_page(chrome, agent)
        assert js(chrome, "voltwatch.history()") is False
        # The long ranges, the export and the summary are hidden; 1 and 5 minutes remain.
        for element in ("hist-ranges", "csv", "summary"):
            assert not chrome.find_element(By.ID, element).is_displayed(), element
        assert [b.text for b in chrome.find_elements(By.CSS_SELECTOR, ".seg button") if b.is_displayed()] == ["1 min", "5 min"]
        start = until(chrome, lambda d: js(d, "voltwatch.pointCount()"), "chart points")
        until(chrome, lambda d: js(d, "voltwatch.pointCount()") > start + 5, "the live chart moving")
        until(chrome, lambda d: js(d, "voltwatch.anomalyCount()") > 0, "a live anomaly listed")
        assert not chrome.find_elements(By.CSS_SELECTOR, "#anomalies li.ep"), "no episode charts without history"
        chrome.find_element(By.CSS_SELECTOR, ".seg button[data-win='60']").click()
        until(chrome, lambda d: drawn(d, 60), "the last minute")
    finally:
        agent.stop()
