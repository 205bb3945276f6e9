"""Fleet checks as pure functions: (suite, fleet snapshot, queue stats) -> CheckResults.

`ping:`, `consumes:`, `queue:` and `route:` (DESIGN section 4) need no further broker traffic once
the snapshot and the queue stats are in; that keeps them trivially testable.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from smoke.broker import QueueStat
from smoke.fleet import FleetSnapshot, Node
from smoke.results import CheckResult, failed, passed, skipped
from smoke.suite import Suite, Worker

DEAF_WORKER_HINT = (
    "a worker that runs but never answers usually cannot log in to the broker: check its logs for "
    "'Cannot connect to amqp://' and the user and vhost in its broker URL"
)


@dataclass(frozen=True)
class Observation:
    """Everything the fleet checks read, gathered once (and retried while the fleet settles)."""

    snapshot: FleetSnapshot
    queues: dict[str, QueueStat]

    def consumer_count(self, queue: str) -> int:
        """Broker's count where the transport has one, else the nodes that say they consume it."""
        stat = self.queues.get(queue)
        if stat is not None and stat.consumers is not None:
            return stat.consumers
        return len(self.snapshot.consumers_of(queue))

    def queue_missing(self, queue: str) -> bool:
        stat = self.queues.get(queue)
        return stat is not None and stat.exists is False


def fleet_checks(suite: Suite, observation: Observation) -> list[CheckResult]:
    snapshot = observation.snapshot
    results = [
        check
        for worker in suite.workers
        for check in (ping_check(worker, snapshot), consumes_check(worker, snapshot))
    ]
    results += [queue_check(queue, observation) for queue in suite.queues()]
    results += [
        route_check(task, task_queue(task, worker, suite), observation.snapshot)
        for worker in suite.workers
        for task in worker.tasks
    ]
    return results


def ping_check(worker: Worker, snapshot: FleetSnapshot) -> CheckResult:
    check_id = f"ping:{worker.name}"
    answered = [node.name for node in snapshot.matching(worker.nodes)]
    if len(answered) >= worker.min_nodes:
        return passed(check_id, f"{len(answered)} node(s) answered", nodes=answered)
    others = sorted(set(snapshot.nodes) - set(answered))
    return failed(
        check_id,
        f"{len(answered)} of at least {worker.min_nodes} node(s) matching {worker.nodes!r} answered"
        + (f" (answered: {', '.join(answered)})" if answered else ""),
        hint=DEAF_WORKER_HINT,
        nodes=answered,
        other_nodes=others,
        pattern=worker.nodes,
    )


def consumes_check(worker: Worker, snapshot: FleetSnapshot) -> CheckResult:
    check_id = f"consumes:{worker.name}"
    nodes = snapshot.matching(worker.nodes)
    if not nodes:
        return skipped(check_id, f"no node matching {worker.nodes!r} answered")
    expected = set(worker.queues)
    gaps = {node.name: sorted(expected - node.queues) for node in nodes if expected - node.queues}
    if not gaps:
        return passed(check_id, f"{len(nodes)} node(s) consume all {len(expected)} queue(s)")
    described = "; ".join(f"{name} does not consume {', '.join(q)}" for name, q in gaps.items())
    return failed(
        check_id,
        described,
        hint="start the worker with -Q listing every queue of the suite (comma-separated)",
        missing=gaps,
    )


def queue_check(queue: str, observation: Observation) -> CheckResult:
    check_id = f"queue:{queue}"
    stat = observation.queues.get(queue)
    if stat is not None and stat.exists is False:
        return failed(
            check_id,
            f"queue {queue} does not exist on the broker: its consumer never declared it",
            hint="the worker that consumes it never connected; " + DEAF_WORKER_HINT,
        )
    consumers = observation.consumer_count(queue)
    counted_by = "broker" if stat is not None and stat.consumers is not None else "workers"
    details = {"consumers": consumers, "messages": stat.messages if stat else None}
    if consumers == 0:
        waiting = f", {stat.messages} message(s) waiting" if stat and stat.messages else ""
        return failed(
            check_id,
            f"queue {queue} has 0 consumers{waiting}",
            hint="no running worker has this queue in its -Q list, or its worker cannot connect",
            counted_by=counted_by,
            **details,
        )
    return passed(check_id, f"{consumers} consumer(s)", counted_by=counted_by, **details)


def task_queue(task: str, worker: Worker, suite: Suite) -> tuple[str, ...]:
    """The queue(s) a task is sent to: a canary's explicit queue, else the one-queue-per-task
    convention (queue named like the task), else any queue of its worker."""
    for canary in suite.canaries:
        if canary.task == task:
            return (canary.queue,)
    if task in worker.queues:
        return (task,)
    return worker.queues


def route_check(task: str, queues: tuple[str, ...], snapshot: FleetSnapshot) -> CheckResult:
    check_id = f"route:{task}"
    where = ", ".join(queues)
    consumers: dict[str, Node] = {n.name: n for q in queues for n in snapshot.consumers_of(q)}
    if not consumers:
        return failed(
            check_id,
            f"no answering node consumes {where}, so {task} cannot run",
            hint=DEAF_WORKER_HINT,
            queues=list(queues),
        )
    serving = sorted(name for name, node in consumers.items() if task in node.registered)
    if serving:
        return passed(
            check_id, f"registered on {len(serving)} consumer(s) of {where}", nodes=serving
        )
    elsewhere = sorted(name for name, node in snapshot.nodes.items() if task in node.registered)
    known = sorted({t for node in consumers.values() for t in node.registered})
    near = difflib.get_close_matches(task, known, n=3, cutoff=0.6)
    reason = f"{task} is not registered on any consumer of {where} ({', '.join(sorted(consumers))})"
    if near:
        reason += f"; they register {', '.join(near)}"
    if elsewhere:
        reason += (
            f"; {task} is registered on {', '.join(elsewhere)}, which do(es) not consume {where}"
        )
    return failed(
        check_id,
        reason,
        hint="register the task under its queue's name (one queue per task), or route it to a "
        "queue its worker consumes",
        consumers=sorted(consumers),
        near_misses=near,
        registered_elsewhere=elsewhere,
    )
