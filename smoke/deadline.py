"""One clock for the whole run: every wait is bounded by what is left of the suite's deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Deadline:
    total_s: float
    clock: Callable[[], float] = time.monotonic
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def remaining(self) -> float:
        return max(0.0, self.total_s - self.elapsed())

    def within(self, seconds: float) -> float:
        """`seconds`, cut to what the deadline still allows."""
        return max(0.0, min(seconds, self.remaining()))
