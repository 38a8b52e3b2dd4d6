"""`POST /api/replay` from a browser form or `curl -F file=@day.csv`, through a real HTTP client."""
import json

import requests

CSV = "timestamp_ms,voltage,label\n" + "".join(
    f"{1_732_170_000_000 + i * 100},{4.8 if i == 150 else 2.5 + (i % 3) * 0.001},{1 if i == 150 else 0}\n"
    for i in range(200))


def test_a_form_upload_is_scored_like_a_raw_body(agent):
    url = agent.url("/api/replay")
    raw = requests.post(url, data=CSV.encode(), timeout=10)
    form = requests.post(url, files={"file": ("day.csv", CSV, "text/csv")}, timeout=10)
    assert form.status_code == 200, form.text
    assert form.text == raw.text
    summary = requests.post(url, params={"summary": "1", "threshold": "0.0001"},
                            files={"file": ("day.csv", CSV, "text/csv")}, timeout=10).json()
    assert summary["threshold"] == 0.0001 and summary["samples"] == 200
    assert summary["labels"]["false_positives"] > 0  # a threshold near 0 calls the wobble anomalous


def test_a_form_without_a_file_is_told_how_to_send_one(agent):
    answer = requests.post(agent.url("/api/replay"), files={"note": (None, "hello")}, timeout=10)
    assert answer.status_code == 400
    assert "-F file=@" in answer.json()["error"]


def test_a_web_page_elsewhere_may_read_the_api_without_a_token_configured(agent):
    preflight = requests.options(agent.url("/api/replay"), timeout=10, headers={
        "Origin": "https://dash.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    status = requests.get(agent.url("/api/status"), headers={"Origin": "https://dash.example"}, timeout=10)
    assert status.headers["Access-Control-Allow-Origin"] == "*"
    json.loads(status.text)


def test_the_settings_file_names_the_origins_allowed_when_the_command_line_does_not(make_agent, tmp_path):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"cors_origins": ["https://dash.example"]}))
    agent = make_agent("--token", "s3cret", "--settings", str(settings))
    allowed = requests.options(agent.url("/api/status"), timeout=10, headers={
        "Origin": "https://dash.example", "Access-Control-Request-Method": "GET"})
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://dash.example"
    other = requests.options(agent.url("/api/status"), timeout=10, headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"})
    assert other.status_code == 403
    # The command line wins over the file.
    flagged = make_agent("--token", "s3cret", "--settings", str(settings), "--cors-origin", "https://elsewhere.example")
    answer = requests.options(flagged.url("/api/status"), timeout=10, headers={
        "Origin": "https://dash.example", "Access-Control-Request-Method": "GET"})
    assert answer.status_code == 403
