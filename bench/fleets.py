"""The fleets the benchmark runs against: the incident's eco2 topology, and scaled-up ones.

Workers are the test suite's own (tests/support): real `celery worker` processes on the threads
pool, each with the probe installed and one task registered per queue (the 1:1 policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.fleet import FleetWorker

REPO = Path(__file__).resolve().parents[1]
ECO2_SUITE = REPO / "jobs" / "eco2.yaml"
ECO2_QUEUES = {
    "scan-worker": ("scan.vision", "scan.rule", "scan.answer", "scan.reward"),
    "character-worker": ("character.match", "character.save_ownership"),
    "users-worker": ("users.save_character",),
}
DEPLOYMENTS = ("ingest", "score", "notify")


@dataclass(frozen=True)
class Topology:
    name: str
    workers: tuple[FleetWorker, ...]
    suite: dict[str, Any]

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(w.node for w in self.workers)

    @property
    def queues(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q for w in self.workers for q in w.queues))


def eco2() -> Topology:
    """One pod per Deployment, named as Kubernetes names them, against jobs/eco2.yaml."""
    workers = tuple(
        FleetWorker(f"celery@{name}-7f9c4-x2k8p", queues, queues)
        for name, queues in ECO2_QUEUES.items()
    )
    return Topology("eco2", workers, yaml.safe_load(ECO2_SUITE.read_text()))


def with_orphan_canary(suite: dict[str, Any], queue: str, timeout: str) -> dict[str, Any]:
    return {**suite, "canaries": [*suite["canaries"], {"queue": queue, "timeout": timeout}]}


def scaled(n_queues: int, n_nodes: int, concurrency: int = 2) -> Topology:
    """`n_queues` queues over three Deployments, `n_nodes` pods spread over them; every pod of a
    Deployment consumes all of its queues, and the suite sends one canary per queue."""
    queues = [f"bench.q{i:03d}" for i in range(n_queues)]
    share = {d: tuple(queues[i :: len(DEPLOYMENTS)]) for i, d in enumerate(DEPLOYMENTS)}
    replicas = {d: len(range(i, n_nodes, len(DEPLOYMENTS))) for i, d in enumerate(DEPLOYMENTS)}
    workers = tuple(
        FleetWorker(f"celery@{d}-worker-{r:02d}", share[d], share[d], concurrency=concurrency)
        for d in DEPLOYMENTS
        for r in range(replicas[d])
    )
    suite = {
        "suite": f"scale-{n_queues}q-{n_nodes}n",
        "broker": "${CELERY_BROKER_URL}",
        "result_backend": "${CELERY_RESULT_BACKEND}",
        "deadline": "60s",
        "settle": "20s",
        "workers": [
            {
                "name": f"{d}-worker",
                "min_nodes": replicas[d],
                "queues": list(share[d]),
                "tasks": list(share[d]),
            }
            for d in DEPLOYMENTS
        ],
        "canaries": [{"queue": q, "timeout": "20s"} for q in queues],
    }
    return Topology(f"{n_queues} queues, {n_nodes} nodes", workers, suite)
