"""What stdout shows during and after a run: JSON lines off a terminal, live progress and the final
table on one. `--quiet` keeps only the failures and the verdict."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

from smoke.report import jsonlines, table
from smoke.report.progress import Progress
from smoke.results import CheckResult, Summary


class View(Protocol):
    def on_result(self, result: CheckResult) -> None: ...

    def finish(self, summary: Summary) -> None: ...

    def close(self) -> None: ...


@dataclass
class JsonLinesView:
    quiet: bool = False

    def on_result(self, result: CheckResult) -> None:
        if result.failed or not self.quiet:
            jsonlines.check_finished(result)

    def finish(self, summary: Summary) -> None:
        jsonlines.run_finished(summary)

    def close(self) -> None:
        pass


@dataclass
class TableView:
    stream: TextIO
    quiet: bool = False
    progress: Progress | None = None

    def on_result(self, result: CheckResult) -> None:
        if self.progress is not None:
            self.progress.update(result)

    def finish(self, summary: Summary) -> None:
        self.close()
        for result in summary.checks:
            if result.failed or not self.quiet:
                print(table.render_check(result), file=self.stream)
        print(table.render_verdict(summary), file=self.stream, flush=True)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def open_view(
    as_table: bool, quiet: bool, planned: Sequence[str], stream: TextIO | None = None
) -> View:
    """The table gets live progress above it when it goes to a terminal."""
    if not as_table:
        return JsonLinesView(quiet)
    out = stream or sys.stdout
    progress = None
    if out.isatty() and not quiet:
        progress = Progress(planned, out)
        progress.start()
    return TableView(out, quiet, progress)
