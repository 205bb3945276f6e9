"""Check outcomes as data, and the run's `Summary`: the single input of every reporter."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from smoke.errors import ExitCode

SUMMARY_SCHEMA = "celery-smoke/summary/v1"


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"  # the check itself could not run


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INTERRUPTED = "interrupted"
    ERROR = "error"  # the runner itself could not run the suite


@dataclass(frozen=True)
class CheckResult:
    id: str
    status: Status
    reason: str = ""
    hint: str = ""
    duration_s: float = 0.0
    attempts: int = 1
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.id.partition(":")[0]

    @property
    def target(self) -> str:
        return self.id.partition(":")[2]

    @property
    def failed(self) -> bool:
        return self.status in (Status.FAIL, Status.ERROR)

    def timed(self, duration_s: float, attempts: int = 1) -> CheckResult:
        return replace(self, duration_s=round(duration_s, 4), attempts=attempts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "status": self.status.value,
            "duration_s": self.duration_s,
            "attempts": self.attempts,
            "reason": self.reason,
            "hint": self.hint,
            "details": self.details,
        }


def passed(check_id: str, reason: str = "", **details: Any) -> CheckResult:
    return CheckResult(check_id, Status.PASS, reason=reason, details=details)


def failed(check_id: str, reason: str, hint: str = "", **details: Any) -> CheckResult:
    return CheckResult(check_id, Status.FAIL, reason=reason, hint=hint, details=details)


def skipped(check_id: str, reason: str, **details: Any) -> CheckResult:
    return CheckResult(check_id, Status.SKIP, reason=reason, details=details)


def errored(check_id: str, reason: str, hint: str = "", **details: Any) -> CheckResult:
    return CheckResult(check_id, Status.ERROR, reason=reason, hint=hint, details=details)


@dataclass(frozen=True)
class Summary:
    suite: str
    run_id: str
    started_at: datetime
    duration_s: float
    checks: tuple[CheckResult, ...]
    context: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    error: str = ""  # why the run could not run at all (the runner's broker), already redacted

    @property
    def verdict(self) -> Verdict:
        if self.interrupted:
            return Verdict.INTERRUPTED
        if self.error:
            return Verdict.ERROR
        return Verdict.FAIL if any(c.failed for c in self.checks) else Verdict.PASS

    @property
    def exit_code(self) -> ExitCode:
        return {
            Verdict.PASS: ExitCode.PASSED,
            Verdict.FAIL: ExitCode.CHECK_FAILED,
            Verdict.INTERRUPTED: ExitCode.INTERRUPTED,
            Verdict.ERROR: ExitCode.COULD_NOT_RUN,
        }[self.verdict]

    @property
    def counts(self) -> dict[str, int]:
        tally = Counter(c.status.value for c in self.checks)
        return {status.value: tally.get(status.value, 0) for status in Status}

    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.failed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SUMMARY_SCHEMA,
            "suite": self.suite,
            "run_id": self.run_id,
            "verdict": self.verdict.value,
            "started_at": self.started_at.isoformat(),
            "duration_s": round(self.duration_s, 4),
            "context": self.context,
            "counts": self.counts,
            "checks": [c.to_dict() for c in self.checks],
            "error": self.error,
        }
