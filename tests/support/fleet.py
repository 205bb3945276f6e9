"""Test fleets: real `celery worker` processes running tests/support/workerapp.py."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from celery import Celery

from smoke.demo.processes import QUIET, WorkerProcess, WorkerSpec, running, wait_until_answering

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class FleetWorker:
    node: str
    queues: tuple[str, ...]
    tasks: tuple[str, ...] = ()
    broker: str | None = None  # default: the fleet's broker; set to give this worker a wrong one
    probe: bool = True
    expect_answer: bool = True
    env: dict[str, str] = field(default_factory=dict)
    without: tuple[str, ...] = QUIET
    concurrency: int = 4  # threads; the benchmark's 20-node fleets use fewer to fit on 2 cores


@contextlib.contextmanager
def start_fleet(
    broker: str, backend: str | None, workers: Sequence[FleetWorker], log_dir: Path
) -> Iterator[list[WorkerProcess]]:
    specs = [
        WorkerSpec(
            node=w.node,
            app="tests.support.workerapp",
            queues=w.queues,
            env={
                "PYTHONPATH": str(REPO),
                "SMOKE_TEST_BROKER": w.broker or broker,
                "SMOKE_TEST_BACKEND": backend or "",
                "SMOKE_TEST_TASKS": ",".join(w.tasks),
                "SMOKE_TEST_PROBE": "1" if w.probe else "0",
                **w.env,
            },
            concurrency=w.concurrency,
            log=log_dir / f"{w.node.replace('@', '_')}.log",
            without=w.without,
        )
        for w in workers
    ]
    with running(specs) as processes:
        expected = [w.node for w in workers if w.expect_answer]
        app = Celery("fleet-waiter", broker=broker, set_as_current=False)
        try:
            answered = wait_until_answering(app, expected, timeout_s=60, processes=processes)
        finally:
            app.close()
        missing = set(expected) - answered
        if missing:
            logs = "\n".join(s.log.read_text()[-2000:] for s in specs if s.log and s.log.exists())
            raise RuntimeError(f"test workers never answered: {sorted(missing)}\n{logs}")
        yield processes
