"""SIGTERM with clients connected: every client gets a close frame, the process exits fast."""
import asyncio
import signal
import time

import socketio
import websockets


def test_graceful_shutdown_sends_close_frames_and_exits_within_a_second(agent):
    sio = socketio.Client(reconnection=False)
    sio.connect(f"http://{agent.base}", transports=["websocket"], wait_timeout=5)
    disconnected = []
    sio.on("disconnect", lambda *args: disconnected.append(time.monotonic()))

    async def run():
        clients = [await websockets.connect(f"ws://{agent.base}/ws") for _ in range(5)]
        for ws in clients:
            await ws.recv()
        start = time.monotonic()
        agent.proc.send_signal(signal.SIGTERM)
        codes = []
        for ws in clients:
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 2)
            except websockets.ConnectionClosed as closed:
                codes.append(closed.rcvd.code if closed.rcvd else None)
        return start, codes

    start, codes = asyncio.run(run())
    # 1001 "going away": RFC 6455 §7.4.1 names it for a server going down.
    assert codes == [1001] * 5, f"close frames: {codes}"
    agent.proc.wait(timeout=5)
    elapsed = time.monotonic() - start
    assert elapsed < 1.0, f"exit took {elapsed:.2f} s"
    assert agent.proc.returncode == 0
    deadline = time.monotonic() + 2
    while not disconnected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert disconnected, "the Socket.IO client was not told"
