"""What berth said in its welcome."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WelcomeInfo:
    """berth's answer to the hello: the container's id, the protocol, and the frame limit in bytes."""

    id: str
    protocol: int
    max_frame_bytes: int
