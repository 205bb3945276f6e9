from __future__ import annotations

import io
import json

from smoke.report import console
from smoke.report.progress import CLEAR_LINE, Progress
from smoke.results import failed, passed
from tests.report.conftest import FakeClock
from tests.report.summaries import failing_summary

PLANNED = ["ping:a", "consumes:a", "queue:q1", "queue:q2", "route:t1", "canary:q1"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def screen(raw: str) -> list[str]:
    """What a terminal shows: each line as last redrawn after a carriage-return clear."""
    return [line.rsplit(CLEAR_LINE, 1)[-1] for line in raw.split("\n")]


def test_status_line_says_what_passed_failed_and_is_pending(clock: FakeClock) -> None:
    out = Terminal()
    progress = Progress(PLANNED, out, clock, width=200)
    clock.now += 3.25
    assert progress.line() == (
        "⠋   3.2s  0/6 done: 0 passed, 0 failed  pending: ping:a, consumes:a, queue:q1, queue:q2 +2"
    )
    progress.update(passed("ping:a"))
    progress.update(failed("consumes:a", "no consumer on q1"))
    assert screen(out.getvalue()) == [
        "FAIL  consumes:a  no consumer on q1",
        "⠋   3.2s  2/6 done: 1 passed, 1 failed  pending: queue:q1, queue:q2, route:t1, canary:q1",
    ]
    for check in PLANNED[2:]:
        progress.update(passed(check))
    assert screen(out.getvalue())[-1] == "⠋   3.2s  6/6 done: 5 passed, 1 failed"


def test_status_line_fits_the_terminal(clock: FakeClock) -> None:
    progress = Progress([f"canary:queue-{i}" for i in range(50)], Terminal(), clock, width=40)
    line = progress.line()
    assert len(line) < 40
    assert line.endswith("…")


def test_the_ticker_redraws_until_stopped_and_leaves_a_clean_line(clock: FakeClock) -> None:
    out = Terminal()
    progress = Progress(PLANNED, out, clock, width=120)
    progress.start(tick_s=0.001)
    while progress.frame < 3:
        clock.now += 0.1
    progress.stop()
    frames = out.getvalue().split(CLEAR_LINE)
    assert len(frames) >= 4
    assert frames[-1] == ""
    stopped_at = out.getvalue()
    clock.now += 1
    assert out.getvalue() == stopped_at


def test_table_view_prints_the_final_table_after_live_progress() -> None:
    out = Terminal()
    view = console.open_view(True, False, PLANNED, out)
    assert isinstance(view, console.TableView)
    assert view.progress is not None
    view.on_result(failed("queue:scan.reward", "no consumer"))
    view.finish(failing_summary())
    lines = screen(out.getvalue())
    assert lines[0] == "FAIL  queue:scan.reward  no consumer"
    table = lines[1:]
    assert [line.split()[:2] for line in table[:7] if not line.startswith(" ")] == [
        ["PASS", "ping:scan-worker"],
        ["PASS", "consumes:scan-worker"],
        ["FAIL", "queue:scan.reward"],
        ["PASS", "route:scan.vision"],
        ["FAIL", "canary:scan.reward"],
    ]
    assert table[-2] == "verdict: FAIL (3 pass, 2 fail) in 14.20s"


def test_quiet_table_keeps_failures_and_verdict_and_has_no_progress() -> None:
    out = Terminal()
    view = console.open_view(True, True, PLANNED, out)
    assert isinstance(view, console.TableView)
    assert view.progress is None
    view.finish(failing_summary())
    marks = [line.split()[0] for line in out.getvalue().splitlines() if line[:4].isupper()]
    assert marks == ["FAIL", "FAIL"]
    assert CLEAR_LINE not in out.getvalue()


def test_table_off_a_terminal_has_no_escape_codes() -> None:
    out = io.StringIO()
    view = console.open_view(True, False, PLANNED, out)
    view.on_result(failed("queue:scan.reward", "no consumer"))
    view.finish(failing_summary())
    assert "\x1b" not in out.getvalue()
    assert "\r" not in out.getvalue()


def test_json_lines_quiet_drops_passes_but_keeps_failures_and_the_verdict(
    log: io.StringIO,
) -> None:
    view = console.open_view(False, True, PLANNED, Terminal())
    summary = failing_summary()
    for check in summary.checks:
        view.on_result(check)
    view.finish(summary)
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [(e["event"], e.get("check")) for e in events] == [
        ("check", "queue:scan.reward"),
        ("check", "canary:scan.reward"),
        ("verdict", None),
    ]
