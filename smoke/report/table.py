"""The human view on a terminal: one row per check, failures with their reason and hint."""

from __future__ import annotations

from smoke.results import CheckResult, Status, Summary

_MARK = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.SKIP: "skip", Status.ERROR: "ERR "}


def render_check(result: CheckResult) -> str:
    line = f"{_MARK[result.status]}  {result.id:<42} {result.duration_s:7.3f}s  {result.reason}"
    if result.failed and result.hint:
        line += f"\n      hint: {result.hint}"
    return line


def render_verdict(summary: Summary) -> str:
    lines = [f"suite {summary.suite}, run {summary.run_id}"]
    if summary.context:
        lines[0] += " (" + ", ".join(f"{k}={v}" for k, v in summary.context.items()) + ")"
    counts = ", ".join(f"{n} {status}" for status, n in summary.counts.items() if n)
    lines.append(
        f"verdict: {summary.verdict.value.upper()} ({counts or 'no checks'}) "
        f"in {summary.duration_s:.2f}s"
    )
    if summary.error:
        lines.append(f"could not run: {summary.error}")
    return "\n".join(lines)
