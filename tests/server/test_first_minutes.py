"""What a new user meets first: a port already taken (the Flask backend voltwatch replaces
listens on 5000 too) is named with the program holding it and the flag to choose another, not
a raw bind error; every metric family on /metrics says what it counts."""
import os
import socket
import subprocess

from agentkit import voltwatch_binary


def test_a_port_in_use_names_the_port_its_holder_and_the_way_out(tmp_path):
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        run = subprocess.run([voltwatch_binary(), "run", "--fake", "normal", "--host", "127.0.0.1", "--port", str(port),
                              "--no-history"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    finally:
        holder.close()
    assert run.returncode != 0
    message = run.stderr.strip().splitlines()[-1]
    assert f"port {port} on 127.0.0.1 is already in use" in message, run.stderr[-2000:]
    assert f"(pid {os.getpid()})" in message, "the test process holds it and is named"
    assert "--port N" in message and "scripts/run.sh --port N" in message


def test_every_metric_family_says_what_it_counts(make_agent):
    import requests
    agent = make_agent(scenario="spikes")
    text = requests.get(agent.url("/metrics"), timeout=10).text
    lines = text.splitlines()
    families = [line.split()[2] for line in lines if line.startswith("# TYPE ")]
    assert len(families) >= 10
    for name in families:
        index = lines.index(next(line for line in lines if line.startswith(f"# TYPE {name} ")))
        help_line = lines[index - 1]
        assert help_line.startswith(f"# HELP {name} ") and len(help_line) > len(f"# HELP {name} ") + 10, help_line
        assert "voltwatch metric" not in help_line, f"{name} has no written help"
