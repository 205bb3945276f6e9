"""A small live fleet in its own vhost, and a TCP proxy in front of the broker for the runner."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smoke.demo.processes import WorkerProcess
from tests.conftest import REDIS_URL
from tests.integration.test_run import eco2_suite, smoke_run, write_suite
from tests.support.fleet import FleetWorker, start_fleet
from tests.support.tcpproxy import TcpProxy, proxy_to

QUEUES = ("scan.vision", "scan.rule")
NODE = "celery@scan-worker-f4u17"


def fault_suite(**overrides: Any) -> dict[str, Any]:
    """The integration tests' eco2 suite cut down to one worker and its two queues."""
    worker = {"name": "scan-worker", "queues": list(QUEUES), "tasks": list(QUEUES)}
    canaries = [{"queue": q, "timeout": "5s"} for q in QUEUES]
    defaults = {"suite": "faults", "deadline": "20s", "settle": "10s"}
    return eco2_suite(**{**defaults, "workers": [worker], "canaries": canaries, **overrides})


@pytest.fixture(scope="module")
def fleet(
    broker_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[WorkerProcess]]:
    workers = [FleetWorker(NODE, QUEUES, QUEUES)]
    with start_fleet(broker_url, REDIS_URL, workers, tmp_path_factory.mktemp("logs")) as processes:
        yield processes


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with proxy_to("127.0.0.1", 5672) as running:
        yield running


@pytest.fixture
def via_proxy(proxy: TcpProxy, vhost: str) -> str:
    """The runner's broker URL: the test's vhost, through the proxy."""
    return proxy.url("amqp", vhost, "guest:guest")


def timed_run(
    tmp_path: Path, broker: str, suite: dict[str, Any], *extra: str
) -> tuple[float, int, dict[str, Any]]:
    started = time.monotonic()
    result, summary = smoke_run(write_suite(tmp_path / "s.yaml", suite), broker, *extra)
    return time.monotonic() - started, result.returncode, summary


def statuses(summary: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in summary["checks"]}
