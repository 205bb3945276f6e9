from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from smoke import broker
from smoke.engine import planned
from smoke.errors import BrokerUnreachable, ExitCode
from smoke.fleet import Expectation, _snapshot
from smoke.results import Summary, Verdict, errored, passed, skipped
from smoke.suite import parse_suite


def test_expectation_needs_min_nodes_per_pattern_and_every_named_node() -> None:
    expectation = Expectation(
        {"celery@scan-*": 2, "celery@users-*": 1}, frozenset({"celery@users-x"})
    )
    assert not expectation.met_by({"celery@scan-a", "celery@users-x"})
    assert not expectation.met_by({"celery@scan-a", "celery@scan-b", "celery@users-y"})
    assert expectation.met_by({"celery@scan-a", "celery@scan-b", "celery@users-x"})


def test_snapshot_from_replies_strips_registered_attributes() -> None:
    replies = {
        "ping": {"celery@a": {"ok": "pong"}},
        "active_queues": {"celery@a": [{"name": "scan.vision"}, {"no": "name"}]},
        "registered": {"celery@a": ["scan.vision [rate_limit=10/m]", "smoke.probe"]},
    }
    node = _snapshot(replies).nodes["celery@a"]
    assert node.queues == frozenset({"scan.vision"})
    assert node.registered == frozenset({"scan.vision", "smoke.probe"})


def test_planned_ids_follow_design_order() -> None:
    suite = parse_suite(
        "suite: s\nworkers: [{name: w, queues: [q], tasks: [t]}]\ncanaries: [{queue: q}]\n", "s", {}
    )
    assert planned(suite) == ["ping:w", "consumes:w", "queue:q", "route:t", "canary:q"]


def _summary(*checks, **kw) -> Summary:  # type: ignore[no-untyped-def]
    return Summary("s", "r", datetime.now(UTC), 1.0, tuple(checks), **kw)


def test_verdicts_map_to_documented_exit_codes() -> None:
    assert _summary(passed("a:b"), skipped("c:d", "n/a")).exit_code == ExitCode.PASSED
    assert _summary(passed("a:b"), errored("c:d", "x")).exit_code == ExitCode.CHECK_FAILED
    assert _summary(interrupted=True).verdict == Verdict.INTERRUPTED
    assert _summary(error="broker refused").exit_code == ExitCode.COULD_NOT_RUN


def test_unreachable_broker_is_retried_until_patience_runs_out() -> None:
    with socket.socket() as closed:  # bind, never listen: connections are refused at once
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        sleeps: list[float] = []
        with pytest.raises(
            BrokerUnreachable, match=r"cannot reach broker amqp://guest:\*\*@127\.0\.0\.1"
        ):
            broker.connect(
                f"amqp://guest:secret@127.0.0.1:{port}//", patience_s=0.3, sleep=sleeps.append
            )
    assert sleeps, "an unreachable broker is retried with backoff"
