"""How long to wait before connecting to berth again: a policy, not a loop."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with "equal jitter", reset by every welcome.

    The n-th retry (from 0) waits a random time between half of and the whole
    step ``min(maximum, initial * factor ** n)`` seconds: at least half the step
    so that attempts still slow down, a random rest so that many workloads
    restarted together by a berth restart do not knock in step.
    ``max_attempts`` (None: unlimited) bounds the retries in a row.

    Example::

        connect(reconnect=Backoff(initial=0.05, maximum=1.0))
    """

    initial: float = 0.1
    maximum: float = 5.0
    factor: float = 2.0
    max_attempts: int | None = None
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (self.initial > 0 and self.maximum >= self.initial and self.factor >= 1):
            raise ValueError("Backoff needs initial > 0, maximum >= initial and factor >= 1.")
        if self.max_attempts is not None and self.max_attempts < 0:
            raise ValueError("Backoff.max_attempts cannot be negative.")

    def step(self, attempt: int) -> float:
        """The ceiling of the wait before retry number ``attempt`` (from 0), in seconds."""
        # Computed in logs: factor ** attempt overflows a float after ~1000 attempts.
        if self.factor == 1 or attempt * math.log(self.factor) < math.log(self.maximum / self.initial):
            return min(self.maximum, self.initial * self.factor**attempt)
        return self.maximum

    def delay(self, attempt: int) -> float | None:
        """Seconds to wait before retry number ``attempt``, or None when no retry is left."""
        if self.max_attempts is not None and attempt >= self.max_attempts:
            return None
        step = self.step(attempt)
        return step / 2 + self.random() * (step / 2)
