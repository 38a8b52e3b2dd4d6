"""The REST API against its own OpenAPI document, checked by schemathesis on the running agent.

`/api/openapi.json` is the document kept in the repository (Sources/VoltServer/HTTP/openapi.json)
as the agent serves it. schemathesis generates requests from it, valid and invalid, with the
token, and checks every answer: no server error, status codes, content types, headers and
bodies as documented, invalid input refused, valid input accepted, 405 for undeclared
methods, and that the token is really required.

One exception, for `POST /api/replay` alone: the agent reads the trace's format from its
content, not from `Content-Type`, and whether a body holds anything to score is a property of
its lines no schema can state. A body outside the document's simplest forms may still be a
trace it can score (`0` is a bare-number serial capture), and a schema-valid body may hold
nothing to score (`0.0` alone is a capture's first line, counted invalid as a partial frame,
DESIGN.md "Replay"), which is answered 400 with the reason, as documented. So neither "invalid
input refused" nor "valid input accepted" can hold there, and neither is checked; every other
check (no server error, documented statuses, content types, bodies, auth) still runs.
"""
import shutil
import subprocess
import sys

TOKEN = "openapi-s3cret"


def schemathesis(agent, tmp_path, *args):
    command = shutil.which("schemathesis") or None
    base = [command] if command else [sys.executable, "-m", "schemathesis.cli"]
    run = subprocess.run(
        [*base, "run", agent.url("/api/openapi.json"), "-H", f"Authorization: Bearer {TOKEN}",
         "--checks", "all", "--max-examples", "40", "--seed", "17", "--workers", "1", *args],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)  # its cache stays out of the repository
    return run.returncode, run.stdout + run.stderr


def test_the_served_document_is_the_one_in_the_repository(make_agent):
    import json
    from agentkit import ROOT
    agent = make_agent("--token", TOKEN)
    status, _, body = agent.get("/api/openapi.json")  # no token needed to read the contract
    assert status == 200
    assert json.loads(body) == json.loads((ROOT / "Sources/VoltServer/HTTP/openapi.json").read_text())


def test_every_operation_but_replay_conforms_to_the_document(make_agent, tmp_path):
    agent = make_agent("--token", TOKEN)
    code, output = schemathesis(agent, tmp_path, "--exclude-path", "/api/replay")
    assert code == 0, output
    assert agent.proc.poll() is None, "the agent crashed"


def test_replay_conforms_to_the_document(make_agent, tmp_path):
    agent = make_agent("--token", TOKEN)
    code, output = schemathesis(agent, tmp_path, "--include-path", "/api/replay", "--exclude-checks", "negative_data_rejection,positive_data_acceptance")
    assert code == 0, output
    assert agent.proc.poll() is None, "the agent crashed"
