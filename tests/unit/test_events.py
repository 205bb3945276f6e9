"""Event-mode verdicts, the auto rule's reading of node replies, and the suite's `verify`."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from smoke.errors import SuiteError
from smoke.events import TaskEvent, TaskEventLog, judge
from smoke.eventswitch import Restore
from smoke.results import Status
from smoke.suite import Canary, parse_suite
from smoke.verify import _no_results
from tests.unit.test_canary import flight

NODE = "celery@users-worker-1"


def story(*events: tuple[str, dict[str, Any]]) -> list[TaskEvent]:
    return [
        TaskEvent(kind, NODE, 0.01 * (i + 1), fields) for i, (kind, fields) in enumerate(events)
    ]


def test_log_keeps_only_this_runs_canaries_and_wakes_the_collector() -> None:
    log = TaskEventLog("smoke-run1-", clock=lambda: 5.0)
    log.add({"type": "task-received", "uuid": "smoke-run2-a", "hostname": NODE})
    log.add({"type": "task-received", "uuid": "someone-elses-task", "hostname": NODE})
    assert log.seen() == []
    arrived = threading.Event()

    def later() -> None:
        log.add({"type": "task-succeeded", "uuid": "smoke-run1-a", "hostname": NODE})
        arrived.set()

    threading.Thread(target=later).start()
    assert arrived.wait(5)
    log.wait(until=10.0, changes=0)  # returns at once: it changed since we saw 0 changes
    final = log.final("smoke-run1-a")
    assert final is not None and final.node == NODE and final.at == 5.0


def test_success_names_node_and_latencies() -> None:
    result = judge(flight(), story(("task-received", {}), ("task-succeeded", {"runtime": 0.003})))
    assert result.status == Status.PASS
    assert result.reason == f"probe executed by {NODE} in 20 ms (received after 10 ms)"
    assert result.details == {
        "node": NODE,
        "latency_s": 0.02,
        "received_s": 0.01,
        "runtime_s": 0.003,
    }


def test_not_registered_is_its_own_verdict() -> None:
    # What a worker emits for a task it does not know: task-failed, and no task-received.
    result = judge(
        flight(task="users.save"),
        story(("task-failed", {"exception": "NotRegistered('users.save')"})),
    )
    assert result.status == Status.FAIL
    assert result.reason == (
        f"{NODE} consumed users.save but does not know the task (NotRegistered): it rejected the message"
    )
    assert "received_s" not in result.details


@pytest.mark.parametrize(
    ("kind", "fields", "reason"),
    [
        (
            "task-failed",
            {"exception": "KeyError('x')"},
            f"scan.reward raised KeyError('x') on {NODE}",
        ),
        ("task-rejected", {"requeue": False}, f"{NODE} rejected scan.reward (requeue=False)"),
        (
            "task-revoked",
            {"expired": True},
            f"scan.reward was revoked on {NODE}: it expired before it ran",
        ),
    ],
)
def test_other_final_events_fail_naming_the_node(
    kind: str, fields: dict[str, Any], reason: str
) -> None:
    result = judge(flight(task="scan.reward"), story(("task-received", {}), (kind, fields)))
    assert (result.status, result.reason, result.details["node"]) == (Status.FAIL, reason, NODE)


@pytest.mark.parametrize(
    ("shown", "status"),
    [
        ("{'status': 'ok', 'dry_run': True}", Status.PASS),
        ("{'status': 'degraded'}", Status.FAIL),
        ("<Character object at 0x7f>", Status.ERROR),  # a repr that does not read back
    ],
)
def test_expect_is_checked_on_the_events_result_repr(shown: str, status: Status) -> None:
    canary = flight(task="scan.reward", expect={"status": "ok"})
    assert judge(canary, story(("task-succeeded", {"result": shown}))).status == status


def replies(conf: Any, registered: Any) -> dict[str, dict[str, Any]]:
    return {"conf": {NODE: conf} if conf is not None else {}, "registered": {NODE: registered}}


@pytest.mark.parametrize(
    ("conf", "registered", "why"),
    [
        (None, [], f"{NODE} did not say whether it stores results"),
        (
            {"broker_url": "amqp://"},
            ["users.save [ignore_result=False]"],
            f"{NODE} has no result backend",
        ),
        (
            {"result_backend": "redis://r"},
            ["users.save [ignore_result=True]"],
            f"{NODE} ignores the results of users.save",
        ),
        (
            {"result_backend": "redis://r"},
            ["other [ignore_result=False]"],
            f"{NODE} does not register users.save",
        ),
        ({"CELERY_RESULT_BACKEND": "redis://r"}, ["users.save [ignore_result=False]"], ""),
    ],
)
def test_auto_reads_whether_a_node_stores_results(conf: Any, registered: Any, why: str) -> None:
    assert (
        _no_results(NODE, Canary(queue="users.save", task="users.save"), replies(conf, registered))
        == why
    )


def test_restore_says_what_was_done() -> None:
    assert Restore().describe() == ""
    assert Restore(("celery@a",)).describe() == (
        "task events were enabled temporarily on celery@a and switched off again"
    )
    assert (
        Restore(("celery@a",), ("celery@b",))
        .describe()
        .endswith(
            "celery@b did not confirm switching them off (a node that died restarts with its own settings)"
        )
    )


def test_verify_defaults_to_auto_and_a_canary_may_override_it() -> None:
    suite = parse_suite(
        "suite: s\nverify: events\ncanaries: [{queue: q}, {queue: r, verify: result}]\n",
        "s.yaml",
        {},
    )
    assert [suite.verify_of(c) for c in suite.canaries] == ["events", "result"]
    assert parse_suite("suite: s\ncanaries: [{queue: q}]\n", "s.yaml", {}).verify == "auto"
    with pytest.raises(
        SuiteError,
        match=r"s.yaml: canaries\[0\].verify: input should be 'result', 'events' or 'auto'",
    ):
        parse_suite("suite: s\ncanaries: [{queue: q, verify: logs}]\n", "s.yaml", {})
