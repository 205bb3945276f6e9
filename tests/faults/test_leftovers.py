"""A hundred runs in a row leave nothing behind on the broker or in the result backend."""

from __future__ import annotations

import pytest
import redis
import yaml

from smoke import engine
from smoke.demo.processes import WorkerProcess
from smoke.suite import parse_suite
from tests.conftest import REDIS_URL, rabbitmqctl
from tests.faults.conftest import fault_suite

pytestmark = pytest.mark.integration

RUNS = 100


def broker_objects(vhost: str) -> dict[str, object]:
    """Queues (reply queues included) and exchanges of the vhost by name; its connections counted
    (their names carry client ports, which a worker's reconnect would change)."""
    vhosts = rabbitmqctl("list_connections", "vhost").split()
    return {
        "queues": sorted(rabbitmqctl("list_queues", "-p", vhost, "name").split()),
        "exchanges": sorted(rabbitmqctl("list_exchanges", "-p", vhost, "name").split()),
        "connections": vhosts.count(vhost),
    }


def result_keys(client: redis.Redis) -> list[bytes]:
    return sorted(client.scan_iter(match="celery-task-meta-smoke-*", count=1000))


def test_a_hundred_runs_leave_no_queue_exchange_connection_or_result_behind(
    fleet: list[WorkerProcess], vhost: str, broker_url: str, redis_client: redis.Redis
) -> None:
    suite = parse_suite(yaml.safe_dump(fault_suite()), "leftovers.yaml", {})
    target = engine.Target(broker_url, REDIS_URL)
    before, keys_before = broker_objects(vhost), result_keys(redis_client)
    verdicts = [
        engine.run(suite, target, run_id=f"leftover{i:03d}").verdict.value for i in range(RUNS)
    ]
    assert verdicts == ["pass"] * RUNS
    assert broker_objects(vhost) == before
    assert result_keys(redis_client) == keys_before
