"""structlog JSON lines on stdout: one event per finished check, one for the verdict."""

from __future__ import annotations

import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from smoke.redact import redact
from smoke.results import CheckResult, Summary


def _redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    redacted: MutableMapping[str, Any] = redact(dict(event))
    return redacted


def configure(stream: TextIO | None = None) -> None:
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_event,
            structlog.processors.JSONRenderer(sort_keys=False),
        ],
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stdout),
        cache_logger_on_first_use=False,
    )


def logger() -> Any:
    return structlog.get_logger("smoke")


def check_finished(result: CheckResult) -> None:
    log = logger()
    emit = log.warning if result.failed else log.info
    emit(
        "check",
        check=result.id,
        status=result.status.value,
        duration_s=result.duration_s,
        attempts=result.attempts,
        reason=result.reason,
        hint=result.hint or None,
    )


def run_finished(summary: Summary) -> None:
    log = logger()
    emit = log.info if summary.verdict == "pass" else log.error
    emit(
        "verdict",
        suite=summary.suite,
        run_id=summary.run_id,
        verdict=summary.verdict.value,
        duration_s=round(summary.duration_s, 3),
        counts=summary.counts,
        error=summary.error or None,
    )
