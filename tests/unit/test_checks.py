from __future__ import annotations

from smoke.broker import QueueStat
from smoke.checks import Observation, fleet_checks, route_check, task_queue
from smoke.fleet import FleetSnapshot, Node
from smoke.results import Status
from smoke.suite import parse_suite

SUITE = parse_suite(
    """
suite: eco2
workers:
  - name: scan-worker
    min_nodes: 2
    queues: [scan.vision, scan.rule]
    tasks: [scan.vision, scan.rule]
  - name: users-worker
    queues: [users.save_character]
    tasks: [users.save_character]
""",
    "s.yaml",
    {},
)


def node(name: str, queues: set[str], tasks: set[str] | None = None) -> Node:
    return Node(name, frozenset(queues), frozenset(queues if tasks is None else tasks))


def statuses(observation: Observation) -> dict[str, Status]:
    return {r.id: r.status for r in fleet_checks(SUITE, observation)}


HEALTHY = FleetSnapshot(
    {
        "celery@scan-worker-a": node("celery@scan-worker-a", {"scan.vision", "scan.rule"}),
        "celery@scan-worker-b": node("celery@scan-worker-b", {"scan.vision", "scan.rule"}),
        "celery@users-worker-a": node("celery@users-worker-a", {"users.save_character"}),
    }
)
STATS = {q: QueueStat(q, True, 0, 1) for q in ("scan.vision", "scan.rule", "users.save_character")}


def test_healthy_fleet_passes_every_check() -> None:
    assert set(statuses(Observation(HEALTHY, STATS)).values()) == {Status.PASS}


def test_deaf_users_worker_fails_ping_queue_and_route() -> None:
    nodes = {k: v for k, v in HEALTHY.nodes.items() if "users" not in k}
    stats = {**STATS, "users.save_character": QueueStat("users.save_character", exists=False)}
    result = statuses(Observation(FleetSnapshot(nodes), stats))
    failing = {cid for cid, status in result.items() if status == Status.FAIL}
    assert failing == {
        "ping:users-worker",
        "queue:users.save_character",
        "route:users.save_character",
    }
    assert result["consumes:users-worker"] == Status.SKIP


def test_min_nodes_counts_matching_nodes_only() -> None:
    nodes = {k: v for k, v in HEALTHY.nodes.items() if not k.endswith("scan-worker-b")}
    results = {r.id: r for r in fleet_checks(SUITE, Observation(FleetSnapshot(nodes), STATS))}
    assert results["ping:scan-worker"].status == Status.FAIL
    assert (
        "1 of at least 2 node(s) matching 'celery@scan-worker-*'"
        in results["ping:scan-worker"].reason
    )


def test_node_missing_a_queue_fails_consumes() -> None:
    nodes = dict(HEALTHY.nodes)
    nodes["celery@scan-worker-b"] = node("celery@scan-worker-b", {"scan.vision"})
    results = {r.id: r for r in fleet_checks(SUITE, Observation(FleetSnapshot(nodes), STATS))}
    assert (
        results["consumes:scan-worker"].reason == "celery@scan-worker-b does not consume scan.rule"
    )


def test_queue_with_zero_consumers_reports_waiting_messages() -> None:
    stats = {**STATS, "scan.rule": QueueStat("scan.rule", True, 12, 0)}
    results = {r.id: r for r in fleet_checks(SUITE, Observation(HEALTHY, stats))}
    assert (
        results["queue:scan.rule"].reason
        == "queue scan.rule has 0 consumers, 12 message(s) waiting"
    )


def test_transport_without_counts_falls_back_to_active_queues() -> None:
    stats = {q: QueueStat(q, exists=None) for q in STATS}
    observation = Observation(HEALTHY, stats)
    assert observation.consumer_count("scan.vision") == 2
    assert statuses(observation)["queue:scan.vision"] == Status.PASS


def test_route_mismatch_suggests_the_registered_name() -> None:
    snapshot = FleetSnapshot(
        {"celery@a": node("celery@a", {"scan.answer"}, {"scan.answers", "smoke.probe"})}
    )
    result = route_check("scan.answer", ("scan.answer",), snapshot)
    assert result.status == Status.FAIL
    assert result.details["near_misses"] == ["scan.answers"]


def test_route_names_a_node_that_registers_the_task_but_consumes_elsewhere() -> None:
    snapshot = FleetSnapshot(
        {
            "celery@a": node("celery@a", {"scan.answer"}, set()),
            "celery@b": node("celery@b", {"other"}, {"scan.answer"}),
        }
    )
    result = route_check("scan.answer", ("scan.answer",), snapshot)
    assert "registered on celery@b, which do(es) not consume scan.answer" in result.reason


def test_task_queue_prefers_canary_then_one_queue_per_task_then_worker_queues() -> None:
    suite = parse_suite(
        """
suite: s
workers:
  - {name: w, queues: [a, b], tasks: [a, t, c]}
canaries:
  - {queue: b, task: c}
""",
        "s.yaml",
        {},
    )
    worker = suite.workers[0]
    assert task_queue("c", worker, suite) == ("b",)
    assert task_queue("a", worker, suite) == ("a",)
    assert task_queue("t", worker, suite) == ("a", "b")
