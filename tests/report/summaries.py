"""Summaries for reporter tests: built the way the engine builds them."""

from __future__ import annotations

from datetime import UTC, datetime

from smoke.results import CheckResult, Summary, failed, passed

LABELS = {"env": "prod", "app": "scan", "revision": "1a2b3c"}


def make_summary(
    checks: tuple[CheckResult, ...],
    context: dict[str, str] | None = None,
    error: str = "",
    run_id: str = "r7f3a9c2e1d0",
) -> Summary:
    return Summary(
        suite="eco2",
        run_id=run_id,
        started_at=datetime(2026, 5, 4, 12, 0, tzinfo=UTC),
        duration_s=14.2,
        checks=checks,
        context=LABELS if context is None else context,
        error=error,
    )


def failing_summary() -> Summary:
    return make_summary(
        (
            passed("ping:scan-worker"),
            passed("consumes:scan-worker"),
            failed(
                "queue:scan.reward",
                "no consumer on scan.reward",
                "scan-worker's -Q list lacks scan.reward",
            ),
            passed("route:scan.vision"),
            failed(
                "canary:scan.reward",
                "no reply within 30s",
                "a task published to scan.reward is never consumed",
            ),
        )
    )
