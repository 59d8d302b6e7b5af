"""One connection to berth's socket: its stream, its line decoder, and what berth said on it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from .errors import BerthWorkloadError
from .framing import DEFAULT_MAX_FRAME_BYTES, LineDecoder

#: How long close() waits for berth to see the end of the connection.
CLOSE_LINGER_S = 1.0
_READ_CHUNK = 64 * 1024


class Connection:
    """A stream to berth; the client makes a new one for every attempt and drops it when it ends."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._decoder = LineDecoder(DEFAULT_MAX_FRAME_BYTES)
        #: Set by the welcome.
        self.welcomed = False
        #: False once the connection has ended: answers for it are dropped (berth has failed their requests).
        self.live = True
        #: A REPLACED or PROTOCOL_MISMATCH from berth: the client stops when this connection ends.
        self.fatal: BerthWorkloadError | None = None

    @property
    def max_frame_bytes(self) -> int:
        return self._decoder.max_bytes

    @max_frame_bytes.setter
    def max_frame_bytes(self, value: int) -> None:
        self._decoder.max_bytes = value

    async def lines(self) -> AsyncIterator[bytes]:
        """Every line from berth until it closes the connection."""
        while chunk := await self._reader.read(_READ_CHUNK):
            for line in self._decoder.feed(chunk):
                yield line

    def write(self, data: bytes) -> None:
        # After the end the transport would drop the bytes anyway, with a warning in the log.
        if not self._writer.is_closing():
            self._writer.write(data)

    async def drain(self) -> None:
        """Waits while berth is slow to read what was written."""
        if not self._writer.is_closing():
            await self._writer.drain()

    async def close(self) -> None:
        """Ends the connection after what was written has left, waiting at most CLOSE_LINGER_S."""
        self._writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(CLOSE_LINGER_S):
                await self._writer.wait_closed()
