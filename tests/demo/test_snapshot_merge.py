"""A settle's last gather window can be too short for a node's slower replies: its partial answer
must not erase what an earlier round learnt (seen on the demo's deaf-worker scenarios)."""

from __future__ import annotations

from smoke.fleet import FleetSnapshot, _snapshot


def replies(*, complete: bool) -> dict[str, dict[str, object]]:
    return {
        "ping": {"celery@a": {"ok": "pong"}},
        "active_queues": {"celery@a": [{"name": "scan.vision"}]} if complete else {},
        "registered": {"celery@a": ["scan.vision"]} if complete else {},
    }


def test_a_node_that_only_answered_the_ping_is_partial() -> None:
    assert _snapshot(replies(complete=True)).nodes["celery@a"].complete
    assert not _snapshot(replies(complete=False)).nodes["celery@a"].complete


def test_a_partial_answer_does_not_replace_a_complete_one() -> None:
    full, partial = _snapshot(replies(complete=True)), _snapshot(replies(complete=False))
    assert full.merge(partial).nodes["celery@a"].queues == {"scan.vision"}
    # Alone, or after another partial one, a partial answer is still what we know.
    assert FleetSnapshot().merge(partial).nodes["celery@a"] == partial.nodes["celery@a"]
    assert partial.merge(full).nodes["celery@a"] == full.nodes["celery@a"]
