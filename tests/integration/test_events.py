"""Event-verified canaries (docs/events.md) against real workers that keep no results."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from kombu import Connection

from smoke import verify
from smoke.deadline import Deadline
from smoke.engine import Target, client_app, observe
from smoke.events import TaskEventLog, listening
from smoke.results import Status
from smoke.suite import Suite
from tests.conftest import REDIS_URL, amqp_url
from tests.support.fleet import FleetWorker, start_fleet
from tests.support.runs import (
    check,
    failing,
    finish_run,
    smoke_run,
    start_run,
    write_suite,
)

pytestmark = pytest.mark.integration

USERS = ("users.save_character",)
CHARACTER = ("character.match",)
SCAN = ("scan.vision",)
# Events off, but switchable: heartbeat on gives the node an event dispatcher.
SWITCHABLE = ("gossip", "mingle")
USERS_NODE = "celery@users-worker-nores1"  # task_ignore_result=True, Redis backend, events off
CHARACTER_NODE = "celery@character-worker-nobk1"  # no result backend, events on (-E)
SCAN_NODE = "celery@scan-worker-quiet1"  # ignores results, no event dispatcher at all


@pytest.fixture(scope="module")
def fleet(broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    workers = [
        FleetWorker(
            USERS_NODE, USERS, USERS, env={"SMOKE_TEST_IGNORE_RESULT": "1"}, without=SWITCHABLE
        ),
        FleetWorker(
            CHARACTER_NODE,
            CHARACTER,
            CHARACTER,
            env={"SMOKE_TEST_BACKEND": "", "SMOKE_TEST_TASK_EVENTS": "1"},
            without=SWITCHABLE,
        ),
        FleetWorker(SCAN_NODE, SCAN, SCAN, env={"SMOKE_TEST_IGNORE_RESULT": "1"}),
    ]
    with start_fleet(broker_url, REDIS_URL, workers, tmp_path_factory.mktemp("logs")):
        yield


def suite(canaries: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    return {
        "suite": "events-test",
        "deadline": "60s",
        "settle": "3s",
        "workers": [
            {"name": "users-worker", "queues": list(USERS), "tasks": list(USERS)},
            {"name": "character-worker", "queues": list(CHARACTER), "tasks": list(CHARACTER)},
        ],
        "canaries": canaries,
        **overrides,
    }


def task_events_were_on(broker: str, node: str) -> bool:
    """Ask the node: `enable_events` says whether they were on; put back what we found."""
    app = Celery("events-probe", broker=broker, set_as_current=False)
    try:
        reply = app.control.broadcast("enable_events", destination=[node], reply=True, timeout=2)
        said = reply[0][node]["ok"]
        if said == "task events enabled":
            app.control.broadcast("disable_events", destination=[node], reply=True, timeout=2)
        return bool(said == "task events already enabled")
    finally:
        app.close()


def wait_for(log: TaskEventLog, event_type: str, timeout_s: float) -> str:
    """The node of the first `event_type` event in the log, waiting up to `timeout_s`."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        changes = log.changes()
        for event in log.seen():
            if event.type == event_type:
                return event.node
        log.wait(end, changes)
    raise AssertionError(f"no {event_type} within {timeout_s}s")


def test_users_worker_that_keeps_no_results_gets_a_specific_verdict(
    fleet: None, broker_url: str, tmp_path: Path
) -> None:
    canaries = [
        {"queue": "users.save_character", "task": "users.save_character",
         "kwargs": {"dry_run": True}, "expect": {"status": "ok", "dry_run": True}},
        {"queue": "users.save_character", "id": "users-probe"},
        {"queue": "character.match"},
        {"queue": "character.match", "task": "character.match", "kwargs": {"fail": "boom"}, "id": "match-fails"},
    ]  # fmt: skip
    assert not task_events_were_on(broker_url, USERS_NODE)
    result, summary = smoke_run(write_suite(tmp_path / "s.yaml", suite(canaries)), broker_url)
    assert failing(summary) == {"canary:match-fails"}, result.stdout
    # The worker stored what it could (the probe always does); the run forgot it all the same.
    leftovers = redis.Redis.from_url(REDIS_URL).keys(
        f"celery-task-meta-smoke-{summary['run_id']}-*"
    )
    assert leftovers == []

    users = check(summary, "canary:users.save_character")
    assert users["status"] == "pass"
    assert users["reason"].startswith(f"users.save_character executed by {USERS_NODE} in ")
    assert "(received after " in users["reason"]
    assert users["reason"].endswith(
        f"; task events were enabled temporarily on {USERS_NODE} and switched off again"
    )
    details = users["details"]
    assert details["verify"] == "events"
    assert details["verify_why"] == f"{USERS_NODE} ignores the results of users.save_character"
    assert details["node"] == USERS_NODE
    assert 0 < details["received_s"] <= details["latency_s"] < 10
    assert details["task_events_enabled_on"] == details["task_events_restored_on"] == [USERS_NODE]
    # The probe stores its result even where the app ignores results: auto reads it back.
    probe = check(summary, "canary:users-probe")
    assert probe["details"]["verify"] == "result"
    assert probe["reason"].startswith(f"probe answered by {USERS_NODE}")

    character = check(summary, "canary:character.match")
    assert character["details"]["verify_why"] == f"{CHARACTER_NODE} has no result backend"
    assert character["reason"].startswith(f"probe executed by {CHARACTER_NODE}")
    assert "task_events_enabled_on" not in character["details"]  # they were on already
    assert check(summary, "canary:match-fails")["reason"] == (
        f"character.match raised CanaryFailure('boom') on {CHARACTER_NODE}"
    )
    # As before the run: off where they were off, on where they were on.
    assert not task_events_were_on(broker_url, USERS_NODE)
    assert task_events_were_on(broker_url, CHARACTER_NODE)


def test_run_without_result_backend_verifies_every_canary_by_events(
    fleet: None, broker_url: str, tmp_path: Path
) -> None:
    canaries = [{"queue": "users.save_character"}, {"queue": "character.match"}]
    suite_file = write_suite(tmp_path / "s.yaml", suite(canaries))
    result, summary = smoke_run(suite_file, broker_url, backend=None)
    assert result.returncode == 0, result.stdout
    for check_id, node in [
        ("canary:users.save_character", USERS_NODE),
        ("canary:character.match", CHARACTER_NODE),
    ]:
        verdict = check(summary, check_id)
        assert verdict["details"]["verify_why"] == "the run has no result backend"
        assert verdict["reason"].startswith(f"probe executed by {node}")
    assert not task_events_were_on(broker_url, USERS_NODE)


def test_worker_that_can_send_no_events_is_not_sent_a_canary(
    fleet: None, broker_url: str, tmp_path: Path
) -> None:
    canaries = [{"queue": "scan.vision", "task": "scan.vision"}]
    result, summary = smoke_run(write_suite(tmp_path / "s.yaml", suite(canaries)), broker_url)
    assert result.returncode == 1
    verdict = check(summary, "canary:scan.vision")
    assert verdict["status"] == "error"
    assert verdict["reason"] == (
        f"not sent: cannot be verified: the consumers of scan.vision ({SCAN_NODE}) "
        "keep no results and send no task events"
    )
    assert "--without-heartbeat" in verdict["hint"]


def test_unregistered_task_is_reported_as_not_registered(fleet: None, broker_url: str) -> None:
    # The preflight refuses to send what the `registered` replies say is unknown; this goes past
    # it, as when a node in a rollout answered with older code than the one that took the message.
    the_suite = Suite.model_validate(
        suite([{"queue": "character.match", "task": "character.unknown", "timeout": 10}])
    )
    app = client_app(Target(broker_url, REDIS_URL))
    deadline = Deadline(30)
    try:
        with Connection(broker_url) as connection:
            observation, _ = observe(app, connection, the_suite, deadline)
            [result] = verify.send_and_verify(
                app,
                connection,
                the_suite,
                list(the_suite.canaries),
                observation,
                "unreg1",
                deadline,
                REDIS_URL,
            )
    finally:
        app.close()
    assert result.status == Status.FAIL
    assert result.reason == (
        f"{CHARACTER_NODE} consumed character.unknown but does not know the task "
        "(NotRegistered): it rejected the message"
    )
    assert result.details["verify_why"] == f"{CHARACTER_NODE} has no result backend"
    assert deadline.elapsed() < 5  # the verdict comes with the event, not at the timeout


def test_two_runs_at_once_do_not_see_each_others_canaries(
    fleet: None, broker_url: str, tmp_path: Path
) -> None:
    def canary(**kwargs: Any) -> list[dict[str, Any]]:
        return [
            {
                "queue": "character.match",
                "task": "character.match",
                "kwargs": {"sleep": 1, **kwargs},
            }
        ]

    failing_file = write_suite(tmp_path / "a.yaml", suite(canary(fail="run a")))
    passing_file = write_suite(tmp_path / "b.yaml", suite(canary()))
    runs = [
        start_run(failing_file, broker_url, backend=None),
        start_run(passing_file, broker_url, backend=None),
    ]
    (a, summary_a), (b, summary_b) = (
        finish_run(p, f) for p, f in zip(runs, [failing_file, passing_file], strict=True)
    )
    assert a.returncode == 1 and b.returncode == 0, a.stdout + b.stdout
    assert check(summary_a, "canary:character.match")["reason"] == (
        f"character.match raised CanaryFailure('run a') on {CHARACTER_NODE}"
    )
    assert check(summary_b, "canary:character.match")["reason"].startswith(
        f"character.match executed by {CHARACTER_NODE}"
    )


def test_interrupted_run_still_switches_events_off(
    fleet: None, broker_url: str, tmp_path: Path
) -> None:
    canaries = [
        {
            "queue": "users.save_character",
            "task": "users.save_character",
            "kwargs": {"sleep": 3},
            "timeout": "20s",
        }
    ]
    suite_file = write_suite(tmp_path / "s.yaml", suite(canaries))
    app = client_app(Target(broker_url))
    try:
        with Connection(broker_url) as connection, listening(app, connection, "sigterm1") as log:
            process = start_run(suite_file, broker_url, "--run-id", "sigterm1")
            assert wait_for(log, "task-received", 30) == USERS_NODE
            process.send_signal(signal.SIGTERM)
            result, summary = finish_run(process, suite_file)
    finally:
        app.close()
    assert result.returncode == 4, result.stdout + result.stderr
    assert summary["verdict"] == "interrupted"
    assert not task_events_were_on(broker_url, USERS_NODE)


def test_worker_killed_after_taking_the_canary_fails_naming_it(
    own_vhost: str, tmp_path: Path
) -> None:
    broker_url, node = amqp_url(own_vhost), "celery@users-worker-kill1"
    worker = FleetWorker(
        node, USERS, USERS, env={"SMOKE_TEST_IGNORE_RESULT": "1", "SMOKE_TEST_TASK_EVENTS": "1"}
    )
    canaries = [
        {
            "queue": "users.save_character",
            "task": "users.save_character",
            "kwargs": {"sleep": 30},
            "timeout": "4s",
        }
    ]
    suite_file = write_suite(
        tmp_path / "s.yaml",
        suite(canaries, workers=[{"name": "users-worker", "queues": list(USERS)}]),
    )
    app = client_app(Target(broker_url))
    try:
        with (
            start_fleet(broker_url, REDIS_URL, [worker], tmp_path) as [process],
            Connection(broker_url) as connection,
            listening(app, connection, "kill1") as log,
        ):
            run = start_run(suite_file, broker_url, "--run-id", "kill1")
            assert wait_for(log, "task-received", 30) == node
            os.killpg(process.pid, signal.SIGKILL)
            result, summary = finish_run(run, suite_file)
    finally:
        app.close()
    assert result.returncode == 1, result.stdout + result.stderr
    verdict = check(summary, "canary:users.save_character")
    assert verdict["reason"] == (
        f"taken by {node}, which went silent: no task-succeeded within 4s and no answer to ping"
    )
    assert verdict["details"]["node"] == node
