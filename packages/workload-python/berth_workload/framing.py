"""Frames on berth's socket: one compact JSON object per line, at most ``max_frame_bytes`` bytes."""

from __future__ import annotations

import json
from typing import Any

from .errors import BerthWorkloadError

#: Used until berth's welcome names its own limit.
DEFAULT_MAX_FRAME_BYTES = 1024 * 1024


class LineDecoder:
    """Splits bytes into lines of at most ``max_bytes`` bytes (newline not counted).

    An over-size line is dropped as it arrives, never buffered whole, up to its
    newline. A ``\\r`` before the newline is tolerated and empty lines are skipped,
    as the protocol says.

    Example::

        decoder = LineDecoder(1024)
        decoder.feed(b'{"type":"pi')      # []
        decoder.feed(b'ng","id":"1"}\\n')  # [b'{"type":"ping","id":"1"}']
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._parts: list[bytes] = []
        self._part_bytes = 0
        self._discarding = False

    def feed(self, chunk: bytes) -> list[bytes]:
        lines: list[bytes] = []
        start = 0
        while start < len(chunk):
            nl = chunk.find(b"\n", start)
            if nl == -1:
                self._keep(chunk[start:])
                break
            piece = chunk[start:nl]
            start = nl + 1
            if self._discarding:
                self._discarding = False
                continue
            if self._parts:
                self._parts.append(piece)
                total = self._part_bytes + len(piece)
                line = b"".join(self._parts)
                self._parts = []
                self._part_bytes = 0
                if total > self.max_bytes + 1:
                    continue
            else:
                line = piece
            if line.endswith(b"\r"):
                line = line[:-1]
            if line and len(line) <= self.max_bytes:
                lines.append(line)
        return lines

    def _keep(self, rest: bytes) -> None:
        if self._discarding:
            return
        if self._part_bytes + len(rest) > self.max_bytes + 1:  # + 1: room for a "\r" before the newline
            self._discarding = True
            self._parts = []
            self._part_bytes = 0
            return
        self._parts.append(rest)
        self._part_bytes += len(rest)


def to_json(data: Any) -> str:
    """``data`` as compact JSON, or BerthWorkloadError ``UNSERIALIZABLE``.

    NaN and infinities are refused (they are not JSON, and berth would take the
    frame for a bad one); so are strings with lone surrogates, which have no UTF-8.
    """
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        text.encode("utf-8")
    except (TypeError, ValueError, RecursionError) as err:  # UnicodeEncodeError is a ValueError
        raise BerthWorkloadError(f"The data cannot be sent as JSON: {err}", "UNSERIALIZABLE") from None
    return text


def encode_line(frame_json: str, max_bytes: int) -> bytes:
    """The frame's bytes with their newline, or BerthWorkloadError ``FRAME_TOO_LARGE``."""
    data = frame_json.encode("utf-8")
    if len(data) > max_bytes:
        raise BerthWorkloadError(
            f"The frame is {len(data)} bytes; berth's limit is {max_bytes}.", "FRAME_TOO_LARGE"
        )
    return data + b"\n"


def frame(kind: str, **fields: Any) -> str:
    """A frame of type ``kind`` whose fields are already known to be JSON (ids, codes)."""
    return json.dumps({"type": kind, **fields}, ensure_ascii=False, separators=(",", ":"))
