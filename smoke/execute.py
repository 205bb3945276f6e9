"""A run as the CLI sees it: signals become an orderly interruption, and the finished Summary
goes to every requested output. The verdict comes from the Summary alone."""

from __future__ import annotations

import os
import signal
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from smoke import engine
from smoke.errors import Interrupted, SmokeError
from smoke.report import console, jsonlines, junit, rerun, slack, summary_file, termination
from smoke.report.slack import SlackConfig
from smoke.results import Summary
from smoke.suite import Suite


@dataclass(frozen=True)
class Outputs:
    format: str = "auto"  # auto | json | table
    summary_path: str | None = None
    junit_path: str | None = None
    slack: SlackConfig | None = None
    quiet: bool = False
    suite_file: str | None = None  # for the rerun command in reports
    termination_path: str | None = None  # None: /dev/termination-log when in a pod; "": off

    def as_table(self) -> bool:
        return self.format == "table" or (self.format == "auto" and sys.stdout.isatty())


def execute(
    suite: Suite, target: engine.Target, outputs: Outputs, run_id: str | None = None
) -> Summary:
    # On a terminal stdout is the table: log events (a Slack outage) go to stderr instead.
    as_table = outputs.as_table()
    jsonlines.configure(sys.stderr if as_table else sys.stdout)
    view = console.open_view(as_table, outputs.quiet, engine.planned(suite))
    try:
        with signals_interrupt():
            summary = engine.run(suite, target, run_id or uuid.uuid4().hex[:12], view.on_result)
    finally:
        view.close()
    view.finish(summary)
    if outputs.summary_path:
        summary_file.write(summary, outputs.summary_path)
    termination.write(summary, outputs.termination_path)
    _side_reports(summary, outputs, suite.deadline)
    return summary


def _side_reports(summary: Summary, outputs: Outputs, deadline_s: float) -> None:
    """JUnit and Slack: their trouble is logged, never turned into another exit code."""
    if outputs.junit_path:
        try:
            junit.write(summary, outputs.junit_path)
        except SmokeError as exc:
            jsonlines.logger().error("junit", written=False, error=str(exc))
    if outputs.slack:
        rerun_commands = rerun.commands(summary, outputs.suite_file, os.environ)
        slack.deliver(summary, outputs.slack, rerun_commands, deadline_s - summary.duration_s)


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGTERM (Kubernetes stopping the Job) and SIGINT end the run with a partial summary."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(f"received {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
