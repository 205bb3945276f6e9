"""A run as the CLI sees it: signals become an orderly interruption, and the finished Summary
goes to every requested output. The verdict comes from the Summary alone."""

from __future__ import annotations

import signal
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from smoke import engine
from smoke.errors import Interrupted
from smoke.report import jsonlines, summary_file, table, termination
from smoke.results import CheckResult, Summary
from smoke.suite import Suite


@dataclass(frozen=True)
class Outputs:
    format: str = "auto"  # auto | json | table
    summary_path: str | None = None
    termination_path: str | None = None  # None: /dev/termination-log when in a pod; "": off

    def as_table(self) -> bool:
        return self.format == "table" or (self.format == "auto" and sys.stdout.isatty())


def execute(
    suite: Suite, target: engine.Target, outputs: Outputs, run_id: str | None = None
) -> Summary:
    jsonlines.configure()
    as_table = outputs.as_table()

    def on_result(result: CheckResult) -> None:
        if as_table:
            print(table.render_check(result), flush=True)
        else:
            jsonlines.check_finished(result)

    with _signals_interrupt():
        summary = engine.run(suite, target, run_id or uuid.uuid4().hex[:12], on_result)
    if as_table:
        print(table.render_verdict(summary))
    else:
        jsonlines.run_finished(summary)
    if outputs.summary_path:
        summary_file.write(summary, outputs.summary_path)
    termination.write(summary, outputs.termination_path)
    return summary


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM (Kubernetes stopping the Job) and SIGINT end the run with a partial summary."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(f"received {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
