"""A port already taken (the Flask backend voltwatch replaces listens on 5000 too) is named,
with the program holding it and the flag to choose another, not a raw bind error."""
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
