"""Live progress on a terminal: one status line redrawn in place (elapsed time, how many checks
passed, failed and are still pending, and which), with each failure printed above it as it lands.

A ticker thread keeps the clock moving while the engine waits for the fleet to settle, so a
60-second settle does not look like a hang.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from smoke.results import CheckResult, Status

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
CLEAR_LINE = "\r\x1b[K"
MAX_PENDING_SHOWN = 4


class Progress:
    def __init__(
        self,
        planned: Sequence[str],
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        width: int | None = None,
    ) -> None:
        self.planned = list(planned)
        self.stream = stream
        self.clock = clock
        self.width = width or shutil.get_terminal_size().columns
        self.started = clock()
        self.results: dict[str, CheckResult] = {}
        self.frame = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._ticker: threading.Thread | None = None

    def line(self) -> str:
        done = list(self.results.values())
        failed = sum(r.failed for r in done)
        passed = sum(r.status is Status.PASS for r in done)
        pending = [cid for cid in self.planned if cid not in self.results]
        text = (
            f"{SPINNER[self.frame % len(SPINNER)]} {self.clock() - self.started:5.1f}s  "
            f"{len(done)}/{len(self.planned)} done: {passed} passed, {failed} failed"
        )
        if pending:
            shown = ", ".join(pending[:MAX_PENDING_SHOWN])
            more = (
                f" +{len(pending) - MAX_PENDING_SHOWN}" if len(pending) > MAX_PENDING_SHOWN else ""
            )
            text += f"  pending: {shown}{more}"
        return text if len(text) < self.width else text[: self.width - 2] + "…"

    def draw(self) -> None:
        with self._lock:
            self.stream.write(CLEAR_LINE + self.line())
            self.stream.flush()

    def update(self, result: CheckResult) -> None:
        with self._lock:
            self.results[result.id] = result
            if result.failed:
                reason = f"  {result.reason}" if result.reason else ""
                row = f"{result.status.value.upper():5} {result.id}{reason}"
                self.stream.write(CLEAR_LINE + row[: self.width - 1] + "\n")
        self.draw()

    def start(self, tick_s: float = 0.2) -> None:
        def tick() -> None:
            while not self._stopped.wait(tick_s):
                self.frame += 1
                self.draw()

        self.draw()
        self._ticker = threading.Thread(target=tick, name="smoke-progress", daemon=True)
        self._ticker.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        with self._lock:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
