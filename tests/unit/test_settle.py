"""When the engine stops waiting for the fleet, and how long it listens for stragglers."""

from __future__ import annotations

from typing import Any

from smoke.broker import QueueStat
from smoke.checks import Observation
from smoke.engine import settled
from smoke.fleet import MIN_QUIET_S, Expectation, FleetSnapshot, Node, accounted_for, quiet_gap
from smoke.suite import parse_suite

SUITE = parse_suite(
    "suite: s\n"
    "workers: [{name: scan-worker, queues: [scan.vision]}]\n"
    "canaries: [{queue: scan.vision}, {queue: orphan}]\n",
    "s.yaml",
    {},
)
EXPECTATION = Expectation({"celery@scan-worker-*": 1})
SCAN_NODE = Node("celery@scan-worker-a", frozenset({"scan.vision"}))


def observation(nodes: tuple[Node, ...], consumers: dict[str, int]) -> Observation:
    return Observation(
        FleetSnapshot({n.name: n for n in nodes}),
        {q: QueueStat(q, True, 0, c) for q, c in consumers.items()},
    )


def test_a_queue_no_answering_node_consumes_does_not_hold_the_run() -> None:
    seen = observation((SCAN_NODE,), {"scan.vision": 1, "orphan": 0})
    assert settled(SUITE, EXPECTATION, seen)


def test_waits_for_missing_nodes_and_for_the_broker_to_count_a_claimed_consumer() -> None:
    assert not settled(SUITE, EXPECTATION, observation((), {"scan.vision": 0, "orphan": 0}))
    # The node says it consumes scan.vision, the broker does not count it yet: a startup race.
    lagging = observation((SCAN_NODE,), {"scan.vision": 0, "orphan": 0})
    assert not settled(SUITE, EXPECTATION, lagging)


def test_without_declared_workers_every_queue_needs_a_consumer() -> None:
    canaries_only = parse_suite("suite: s\ncanaries: [{queue: orphan}]\n", "s.yaml", {})
    nobody = Expectation({})
    assert not settled(canaries_only, nobody, observation((), {"orphan": 0}))
    assert settled(canaries_only, nobody, observation((), {"orphan": 1}))


def test_quiet_gap_follows_how_long_the_expected_nodes_took_within_bounds() -> None:
    assert quiet_gap(0.001, 0.1) == MIN_QUIET_S
    assert quiet_gap(0.05, 0.1) == 0.05
    assert quiet_gap(3.0, 0.1) == 0.1


def test_answers_account_for_the_consumers_the_broker_counts() -> None:
    replies: dict[str, dict[str, Any]] = {
        "ping": {"celery@a": "pong", "celery@b": "pong"},
        "active_queues": {
            "celery@a": [{"name": "q1"}, {"name": "q2"}],
            "celery@b": [{"name": "q1"}],
        },
        "registered": {"celery@a": []},  # celery@b has not answered everything yet
    }
    assert accounted_for(replies, {"q1": 1, "q2": 1, "orphan": 0})
    assert not accounted_for(replies, {"q1": 2})  # the second consumer of q1 may be celery@b
    replies["registered"]["celery@b"] = []
    assert accounted_for(replies, {"q1": 2})
