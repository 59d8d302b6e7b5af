"""A fake berth for the SDK's own tests: a Unix socket server that speaks the protocol by hand."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from typing import Any


class FakeBerth:
    """Listens on a socket in a temp dir; each connection's frames arrive on ``frames``.

    ``welcome`` (default True) answers every hello with a welcome. Use
    ``async with FakeBerth() as berth``; ``stop()`` closes it (and its
    connections), ``start()`` listens again on the same path, as a restarted berth.
    """

    def __init__(self, *, max_frame_bytes: int = 1024, welcome: bool = True) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="berth-py-")
        self.path = os.path.join(self._dir.name, "berth.sock")
        self.max_frame_bytes = max_frame_bytes
        self.welcome = welcome
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.writers: list[asyncio.StreamWriter] = []
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> FakeBerth:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
        self._dir.cleanup()

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, self.path)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self.writers:
                writer.close()
            await self._server.wait_closed()
            self._server = None
        self.writers.clear()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def send(self, frame: dict[str, Any], writer: asyncio.StreamWriter | None = None) -> None:
        (writer or self.writers[-1]).write(json.dumps(frame).encode() + b"\n")

    async def next(self, kind: str | None = None) -> dict[str, Any]:
        """The next frame from the workload (skipping frames of other types when ``kind`` is given)."""
        while True:
            frame = await asyncio.wait_for(self.frames.get(), 5)
            if kind is None or frame.get("type") == kind:
                return frame

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while line := await reader.readline():
                frame = json.loads(line)
                if frame.get("type") == "hello" and self.welcome:
                    limit = self.max_frame_bytes
                    welcome = {"type": "welcome", "protocol": 1, "id": "C1", "maxFrameBytes": limit}
                    self.send(welcome, writer)
                await self.frames.put(frame)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
