from __future__ import annotations

from typing import Any

import pytest

from smoke.broker import QueueStat
from smoke.canary import Flight, is_subset, judge, preflight
from smoke.checks import Observation
from smoke.fleet import FleetSnapshot, Node
from smoke.results import Status
from smoke.suite import Canary


class ModelOffline(RuntimeError):
    pass


def flight(**canary: Any) -> Flight:
    c = Canary(**{"queue": "scan.reward", **canary})
    return Flight(c, "smoke-x-1", c.task or "smoke.probe", 0.0, 30.0)


def observation(registered: set[str], exists: bool = True, consumers: int = 1) -> Observation:
    nodes = (
        {"celery@w": Node("celery@w", frozenset({"scan.reward"}), frozenset(registered))}
        if consumers
        else {}
    )
    stats = {"scan.reward": QueueStat("scan.reward", exists, 0, consumers if exists else None)}
    return Observation(FleetSnapshot(nodes), stats)


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        ({"status": "ok"}, {"status": "ok", "extra": 1}, True),
        ({"status": "ok"}, {"status": "degraded"}, False),
        ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, True),
        ({"a": 1}, "not a dict", False),
        ([1, 2], [1, 2], True),
    ],
)
def test_expect_is_a_subset_match(expected: Any, actual: Any, matches: bool) -> None:
    assert is_subset(expected, actual) is matches


def test_probe_success_names_the_node() -> None:
    result = judge(
        flight(), {"status": "SUCCESS", "result": {"node": "celery@scan-worker-1"}}, 0.012
    )
    assert (result.status, result.reason) == (
        Status.PASS,
        "probe answered by celery@scan-worker-1 in 12 ms",
    )


def test_task_that_raised_reports_the_exception_type() -> None:
    meta = {"status": "FAILURE", "result": ModelOffline("gemini down")}
    result = judge(flight(task="scan.reward"), meta, 0.1)
    assert result.reason == "scan.reward raised ModelOffline: gemini down"


def test_revoked_means_expired_before_a_worker_took_it() -> None:
    result = judge(flight(timeout=5), {"status": "REVOKED", "result": None}, 5.0)
    assert "expired before a worker took it (expires 5s)" in result.reason


def test_preflight_missing_queue_and_no_consumer() -> None:
    canary = Canary(queue="scan.reward")
    missing = preflight(canary, observation(set(), exists=False, consumers=0))
    assert missing is not None and "does not exist" in missing.reason
    idle = preflight(canary, observation(set(), exists=True, consumers=0))
    assert idle is not None and idle.reason == "not sent: queue scan.reward has no consumer"


def test_preflight_probe_not_installed_hints_install() -> None:
    result = preflight(Canary(queue="scan.reward"), observation({"scan.reward"}))
    assert result is not None and "smoke.worker.install(app)" in result.hint


def test_preflight_task_not_registered_is_not_sent() -> None:
    result = preflight(
        Canary(queue="scan.reward", task="scan.reward"), observation({"smoke.probe"})
    )
    assert result is not None and "NotRegistered" in result.reason


def test_preflight_lets_a_sendable_canary_through() -> None:
    assert preflight(Canary(queue="scan.reward"), observation({"smoke.probe"})) is None
