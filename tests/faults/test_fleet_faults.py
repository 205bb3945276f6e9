"""Faults on the fleet's side: a worker dies holding a canary, the result backend is gone, and two
runs share one fleet at the same time."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery

from smoke.demo.processes import WorkerProcess
from tests.conftest import REDIS_URL, amqp_url
from tests.faults.conftest import NODE, QUEUES, fault_suite, statuses
from tests.integration.test_run import check, smoke_run, write_suite
from tests.support.fleet import FleetWorker, start_fleet

pytestmark = pytest.mark.integration


def eventually(condition: Callable[[], bool], timeout_s: float = 15) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:  # bound, never listening: connections are refused at once
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_worker_killed_while_holding_a_canary_fails_naming_the_node(
    own_vhost: str, tmp_path: Path
) -> None:
    url, node = amqp_url(own_vhost), "celery@scan-worker-k1ll"
    suite = fault_suite(
        canaries=[{"queue": "scan.vision", "task": "scan.vision", "kwargs": {"sleep": 30},
                   "timeout": "4s"}],
    )  # fmt: skip
    outcome: list[dict[str, Any]] = []
    with start_fleet(url, REDIS_URL, [FleetWorker(node, QUEUES, QUEUES)], tmp_path) as workers:
        runner = threading.Thread(
            target=lambda: outcome.append(
                smoke_run(write_suite(tmp_path / "s.yaml", suite), url)[1]
            )
        )
        runner.start()
        app = Celery("watcher", broker=url, set_as_current=False)
        try:
            holding = eventually(
                lambda: any(
                    task["name"] == "scan.vision"
                    for tasks in (app.control.inspect([node], timeout=0.3).active() or {}).values()
                    for task in tasks
                )
            )
        finally:
            app.close()
        if holding:
            os.killpg(workers[0].pid, signal.SIGKILL)
        runner.join(60)
    assert holding, "the worker never took the canary"
    summary = outcome[0]
    assert summary["verdict"] == "fail"
    assert check(summary, "canary:scan.vision")["reason"] == (
        f"no result from scan.vision within 4s; consumers of scan.vision: {node}"
    )


def test_result_backend_unreachable_is_reported_as_such(
    fleet: list[WorkerProcess], broker_url: str, closed_port: int, tmp_path: Path,
    redis_client: redis.Redis,
) -> None:  # fmt: skip
    backend = f"redis://127.0.0.1:{closed_port}/0"
    result, summary = smoke_run(
        write_suite(tmp_path / "s.yaml", fault_suite()), broker_url, "--result-backend", backend
    )
    assert result.returncode == 1, result.stderr
    for queue in QUEUES:
        canary = check(summary, f"canary:{queue}")
        assert canary["status"] == "error"
        assert canary["reason"] == f"result backend {backend} unreachable: ConnectionError"
    assert {s for cid, s in statuses(summary).items() if not cid.startswith("canary:")} == {"pass"}
    # The workers wrote to their own backend, which the runner could not reach to forget them.
    pattern = f"celery-task-meta-smoke-{summary['run_id']}-*"
    assert eventually(lambda: len(list(redis_client.scan_iter(match=pattern))) == len(QUEUES))
    redis_client.delete(*redis_client.scan_iter(match=pattern))


def test_two_runs_at_once_against_one_fleet_do_not_cross_talk(
    fleet: list[WorkerProcess], broker_url: str, tmp_path: Path
) -> None:
    def canary(tag: str, fail: bool) -> dict[str, Any]:
        kwargs = {"tag": tag, **({"fail": f"only run {tag} fails"} if fail else {})}
        return {"queue": "scan.rule", "task": "scan.rule", "kwargs": kwargs,
                "expect": {"tag": tag}, "id": "tagged"}  # fmt: skip

    suites = {
        "a": fault_suite(canaries=[canary("a", fail=True), {"queue": "scan.vision"}]),
        "b": fault_suite(canaries=[canary("b", fail=False), {"queue": "scan.vision"}]),
    }
    summaries: dict[str, dict[str, Any]] = {}

    def run(name: str) -> None:
        summaries[name] = smoke_run(
            write_suite(tmp_path / f"{name}.yaml", suites[name]), broker_url
        )[1]

    threads = [threading.Thread(target=run, args=(name,)) for name in suites]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    a, b = summaries["a"], summaries["b"]
    assert a["run_id"] != b["run_id"]
    assert check(a, "canary:tagged")["reason"] == "scan.rule raised CanaryFailure: only run a fails"
    assert check(b, "canary:tagged")["status"] == "pass"
    for summary in (a, b):
        assert check(summary, "ping:scan-worker")["details"]["nodes"] == [NODE]
        assert check(summary, "canary:scan.vision")["status"] == "pass"
        assert {s for cid, s in statuses(summary).items() if cid != "canary:tagged"} == {"pass"}
