"""`smoke run` end to end: the CLI against real worker processes on the real RabbitMQ and Redis."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu import Connection

from tests.conftest import REDIS_URL, amqp_url
from tests.support.fleet import FleetWorker, start_fleet
from tests.support.runs import (
    check,
    failing,
    finish_run,
    leftover_results,
    smoke_run,
    start_run,
    write_suite,
)

pytestmark = pytest.mark.integration

SCAN = ("scan.vision", "scan.rule", "scan.answer", "scan.reward")
CHARACTER = ("character.match", "character.save_ownership")
USERS = ("users.save_character",)
PASSWORD = "s3cret-Pa55"


def eco2_suite(**overrides: Any) -> dict[str, Any]:
    suite: dict[str, Any] = {
        "suite": "eco2-test",
        "deadline": "60s",
        "settle": "3s",
        "context": {"env": "test"},
        "workers": [
            {"name": "scan-worker", "queues": list(SCAN), "tasks": list(SCAN)},
            {"name": "character-worker", "queues": list(CHARACTER), "tasks": list(CHARACTER)},
            {"name": "users-worker", "queues": list(USERS), "tasks": list(USERS)},
        ],
        "canaries": [{"queue": q, "timeout": "10s"} for q in SCAN + CHARACTER + USERS],
    }
    suite.update(overrides)
    return suite


@pytest.fixture(scope="module")
def healthy_fleet(broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    workers = [
        FleetWorker("celery@scan-worker-7f9c4", SCAN, SCAN),
        FleetWorker("celery@character-worker-5d2b1", CHARACTER, CHARACTER),
        FleetWorker("celery@users-worker-8a3e6", USERS, USERS),
    ]
    with start_fleet(broker_url, REDIS_URL, workers, tmp_path_factory.mktemp("logs")):
        yield


def ready_messages(broker: str, queues: tuple[str, ...]) -> dict[str, int]:
    with Connection(broker) as conn:
        channel = conn.channel()
        return {q: channel.queue_declare(queue=q, passive=True).message_count for q in queues}


def test_healthy_fleet_passes_and_leaves_nothing_behind(
    healthy_fleet: None, broker_url: str, tmp_path: Path, redis_client: redis.Redis
) -> None:
    result, summary = smoke_run(write_suite(tmp_path / "s.yaml", eco2_suite()), broker_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary["verdict"] == "pass"
    assert summary["counts"] == {"pass": 27, "fail": 0, "skip": 0, "error": 0}
    assert summary["schema"] == "celery-smoke/summary/v1"
    assert check(summary, "canary:users.save_character")["reason"].startswith(
        "probe answered by celery@users-worker-8a3e6"
    )
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {e["check"] for e in events if e["event"] == "check"} == {
        c["id"] for c in summary["checks"]
    }
    assert events[-1]["event"] == "verdict"
    assert ready_messages(broker_url, SCAN + CHARACTER + USERS) == dict.fromkeys(
        SCAN + CHARACTER + USERS, 0
    )
    assert leftover_results(redis_client, summary["run_id"]) == []


def test_task_canary_expect_and_raising_task(
    healthy_fleet: None, broker_url: str, tmp_path: Path
) -> None:
    suite = eco2_suite(
        canaries=[
            {
                "queue": "scan.reward",
                "task": "scan.reward",
                "kwargs": {"dry_run": True},
                "expect": {"status": "ok"},
            },
            {
                "queue": "scan.answer",
                "task": "scan.answer",
                "kwargs": {"fail": "model offline"},
                "id": "answer-fails",
            },
            {
                "queue": "scan.rule",
                "task": "scan.rule",
                "expect": {"status": "degraded"},
                "id": "rule-expect",
            },
        ]
    )
    result, summary = smoke_run(write_suite(tmp_path / "s.yaml", suite), broker_url)
    assert result.returncode == 1
    assert failing(summary) == {"canary:answer-fails", "canary:rule-expect"}
    assert (
        check(summary, "canary:answer-fails")["reason"]
        == "scan.answer raised CanaryFailure: model offline"
    )
    assert "does not match expect" in check(summary, "canary:rule-expect")["reason"]


def test_slow_task_times_out_and_leaves_no_message(
    healthy_fleet: None, broker_url: str, tmp_path: Path
) -> None:
    suite = eco2_suite(
        canaries=[
            {
                "queue": "scan.vision",
                "task": "scan.vision",
                "kwargs": {"sleep": 2},
                "timeout": "0.5s",
            }
        ]
    )
    result, summary = smoke_run(write_suite(tmp_path / "s.yaml", suite), broker_url)
    assert result.returncode == 1
    assert failing(summary) == {"canary:scan.vision"}
    assert (
        check(summary, "canary:scan.vision")["reason"]
        == "no result from scan.vision within 0.5s; consumers of scan.vision: celery@scan-worker-7f9c4"
    )
    assert ready_messages(broker_url, ("scan.vision",)) == {"scan.vision": 0}


def test_queue_without_consumer_fails_without_waiting(
    healthy_fleet: None, broker_url: str, tmp_path: Path
) -> None:
    with Connection(broker_url) as conn:
        conn.channel().queue_declare(queue="orphan.queue", durable=True, auto_delete=False)
    suite = eco2_suite(canaries=[{"queue": "orphan.queue", "timeout": "30s"}])
    result, summary = smoke_run(write_suite(tmp_path / "s.yaml", suite), broker_url)
    assert result.returncode == 1
    assert failing(summary) == {"queue:orphan.queue", "canary:orphan.queue"}
    assert (
        check(summary, "canary:orphan.queue")["reason"]
        == "not sent: queue orphan.queue has no consumer"
    )
    assert check(summary, "queue:orphan.queue")["reason"] == "queue orphan.queue has 0 consumers"
    assert ready_messages(broker_url, ("orphan.queue",)) == {"orphan.queue": 0}


def test_route_mismatch_names_the_near_miss(own_vhost: str, tmp_path: Path) -> None:
    broker_url = amqp_url(own_vhost)
    # The 1:1 policy broken: the worker consumes scan.answer but registered the task as scan.answers.
    workers = [FleetWorker("celery@scan-worker-route1", ("scan.answer",), ("scan.answers",))]
    suite = eco2_suite(
        workers=[{"name": "scan-worker", "queues": ["scan.answer"], "tasks": ["scan.answer"]}],
        canaries=[{"queue": "scan.answer"}],
    )
    with start_fleet(broker_url, REDIS_URL, workers, tmp_path):
        result, summary = smoke_run(write_suite(tmp_path / "s.yaml", suite), broker_url)
    assert result.returncode == 1
    assert failing(summary) == {"route:scan.answer"}
    reason = check(summary, "route:scan.answer")["reason"]
    assert "not registered on any consumer of scan.answer" in reason
    assert "they register scan.answers" in reason


def test_worker_with_wrong_username_is_caught_and_password_never_shown(
    own_vhost: str, tmp_path: Path
) -> None:
    # The incident: users-worker's secret says `rabbitmq` where the broker wants another user.
    broker_url, wrong = amqp_url(own_vhost), amqp_url(own_vhost, "rabbitmq", PASSWORD)
    workers = [
        FleetWorker("celery@users-worker-deaf1", USERS, USERS, broker=wrong, expect_answer=False)
    ]
    suite = eco2_suite(
        workers=[{"name": "users-worker", "queues": list(USERS), "tasks": list(USERS)}],
        canaries=[{"queue": "users.save_character"}],
        settle="1s",
    )
    # Celery 5.7 gives up on a refused login (in Kubernetes: CrashLoopBackOff); older versions keep
    # retrying while the pod looks Running. Either way the broker never hears from it.
    with start_fleet(broker_url, REDIS_URL, workers, tmp_path):
        result, summary = smoke_run(write_suite(tmp_path / "s.yaml", suite), broker_url)
    assert result.returncode == 1
    assert failing(summary) == {
        "ping:users-worker",
        "queue:users.save_character",
        "route:users.save_character",
        "canary:users.save_character",
    }
    assert (
        "0 of at least 1 node(s) matching 'celery@users-worker-*'"
        in check(summary, "ping:users-worker")["reason"]
    )
    assert "does not exist on the broker" in check(summary, "queue:users.save_character")["reason"]
    output = result.stdout + result.stderr + (tmp_path / "s.summary.json").read_text()
    assert PASSWORD not in output


def test_runner_with_wrong_credentials_exits_3_without_secret(vhost: str, tmp_path: Path) -> None:
    suite_file = write_suite(tmp_path / "s.yaml", eco2_suite())
    started = time.monotonic()
    result, summary = smoke_run(suite_file, amqp_url(vhost, password=PASSWORD))
    elapsed = time.monotonic() - started
    assert result.returncode == 3, result.stderr
    assert summary["verdict"] == "error"
    assert "refused our login as user 'guest'" in summary["error"]
    assert PASSWORD not in result.stdout + result.stderr + json.dumps(summary)
    assert elapsed < 30  # the refusal is not retried through `settle`; the benchmark measures speed


def test_missing_vhost_and_closed_port_exit_3(tmp_path: Path) -> None:
    suite_file = write_suite(tmp_path / "s.yaml", eco2_suite(settle="1s"))
    _, summary = smoke_run(suite_file, "amqp://guest:guest@127.0.0.1:5672/no-such-vhost")
    assert "vhost 'no-such-vhost' does not exist" in summary["error"]
    result, summary = smoke_run(suite_file, "amqp://guest:guest@127.0.0.1:1/x")
    assert result.returncode == 3
    assert summary["error"].startswith("cannot reach broker amqp://guest:**@127.0.0.1:1/x")


def test_sigterm_mid_run_writes_partial_summary_and_exits_4(own_vhost: str, tmp_path: Path) -> None:
    broker_url = amqp_url(own_vhost)
    suite_file = write_suite(
        tmp_path / "s.yaml", eco2_suite(settle="40s")
    )  # nobody answers: settles long
    process = start_run(suite_file, broker_url)
    time.sleep(2)
    process.send_signal(signal.SIGTERM)
    result, summary = finish_run(process, suite_file, timeout=30)
    assert result.returncode == 4, result.stdout + result.stderr
    assert summary["verdict"] == "interrupted"
    assert summary["counts"]["skip"] == 27
    assert json.loads(result.stdout.splitlines()[-1])["verdict"] == "interrupted"
