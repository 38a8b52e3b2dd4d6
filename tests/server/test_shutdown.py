"""SIGTERM with clients connected: every client gets a close frame, the process exits on its
own, without the service group having to force anything."""
import asyncio
import signal
import threading

import socketio
import websockets
from agentkit import EVENT_TIMEOUT

# swift-service-lifecycle's words when a service outlives the graceful shutdown limit
# (Agent.shutdownLimit, 10 s) and the group cancels it: a shutdown that needed force.
FORCED = "Graceful shutdown took longer than allowed by the configuration"


def test_graceful_shutdown_sends_close_frames_and_exits_on_its_own(make_agent):
    # Debug logging, so the service group's own account of the shutdown is in the log.
    agent = make_agent("--log-level", "debug")
    sio = socketio.Client(reconnection=False)
    sio.connect(f"http://{agent.base}", transports=["websocket"], wait_timeout=5)
    disconnected = threading.Event()
    sio.on("disconnect", lambda *args: disconnected.set())

    async def run():
        clients = [await websockets.connect(f"ws://{agent.base}/ws") for _ in range(5)]
        for ws in clients:
            await ws.recv()
        agent.proc.send_signal(signal.SIGTERM)
        codes = []
        for ws in clients:
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT)
            except websockets.ConnectionClosed as closed:
                codes.append(closed.rcvd.code if closed.rcvd else None)
        return codes

    codes = asyncio.run(run())
    # 1001 "going away": RFC 6455 §7.4.1 names it for a server going down.
    assert codes == [1001] * 5, f"close frames: {codes}"
    # The deadline only bounds a failure; how fast the agent stops is not a unit-test figure.
    agent.proc.wait(timeout=EVENT_TIMEOUT)
    assert agent.proc.returncode == 0
    log = agent.log_text()
    assert FORCED not in log, "a service had to be cancelled after the graceful shutdown limit"
    assert disconnected.wait(EVENT_TIMEOUT), "the Socket.IO client was not told"


# NIO's words when a task is scheduled on an event loop that has shut down: seen in 2 of about
# 15 SIGTERMs when the server owned (and shut down) its own pinned event loops while clients
# were still closing. It serves on NIO's shared loops now, which outlive every connection.
LATE_TASK = "Cannot schedule tasks on an EventLoop that has already shut down"


def test_repeated_shutdowns_with_clients_schedule_nothing_on_a_stopped_loop(make_agent):
    for _ in range(8):
        agent = make_agent("--fake-period-ms", "5")

        async def run():
            clients = [await websockets.connect(f"ws://{agent.base}/ws") for _ in range(20)]
            for ws in clients:
                await ws.recv()
            agent.proc.send_signal(signal.SIGTERM)
            for ws in clients:
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT)
                except websockets.ConnectionClosed:
                    pass

        asyncio.run(run())
        agent.proc.wait(timeout=EVENT_TIMEOUT)
        assert agent.proc.returncode == 0
        assert LATE_TASK not in agent.log_text(), agent.log_text()[-2000:]
