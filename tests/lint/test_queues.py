from __future__ import annotations

from collections.abc import Callable

import pytest

from smoke.lint.findings import Severity
from smoke.lint.objects import Container
from smoke.lint.rules.queues import consumed_queues
from tests.lint.helpers import BASE_SUITE, Lint

RULE = "queue-coverage"


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        (["celery"], ["-A", "app", "worker", "-Q", "a,b"], ("a", "b")),
        (["celery"], ["worker", "--queues=a, b,"], ("a", "b")),
        (["celery"], ["worker", "-Qa,b"], ("a", "b")),
        (["sh", "-c"], ["exec celery -A app worker -Q 'a,b' -c 4"], ("a", "b")),
        (["celery", "worker", "-Q", "old"], ["-Q", "new"], ("new",)),  # Celery: last one wins
        (["celery"], ["worker"], None),
    ],
)
def test_queues_are_read_from_command_and_args(
    command: list[str], args: list[str], expected: tuple[str, ...] | None
) -> None:
    assert consumed_queues(Container("c", {"command": command, "args": args})) == expected


def test_matching_queue_lists_pass(lint: Lint, deployment: Callable[..., str]) -> None:
    assert lint(RULE, deployment()) == []


def test_queue_lists_that_disagree(lint: Lint, deployment: Callable[..., str]) -> None:
    args = '["worker", "--queues", "scan.vision,scan.extra"]'
    lacking, extra = lint(RULE, deployment(args=args))
    assert lacking.severity is Severity.ERROR
    assert "does not consume scan.rule (suite workers[0].queues)" in lacking.message
    assert lacking.hint.startswith("use -Q scan.vision,scan.extra,scan.rule")
    assert lacking.path == "spec.template.spec.containers[0].args"
    assert extra.severity is Severity.WARNING
    assert "consumes scan.extra, which the suite does not check" in extra.message


def test_a_missing_deployment_fails_and_names_the_orphaned_canary(
    lint: Lint, deployment: Callable[..., str]
) -> None:
    args = '["worker", "-Q", "character.match"]'
    other = deployment(name="character-worker", namespace="character", args=args)
    worker_missing, canary = lint(RULE, other)
    assert (worker_missing.file, worker_missing.path) == ("suite.yaml", "workers[0]")
    assert "no Deployment scan/scan-worker in the manifests" in worker_missing.message
    assert (canary.path, canary.object) == ("canaries[0]", "canary canary:scan.vision")
    assert "scan-worker's Deployment is missing" in canary.hint


def test_deployments_match_by_namespace_then_by_worker_name(
    lint: Lint, deployment: Callable[..., str]
) -> None:
    (finding,) = lint(RULE, deployment(namespace="other"))
    assert finding.path == "workers[0]"  # its queues are consumed, but not by scan/scan-worker
    unnamespaced = deployment().replace("namespace: scan", "labels: {}")
    assert lint(RULE, unnamespaced) == []
    no_ref = BASE_SUITE.replace("    kubernetes: {namespace: scan, deployment: scan-worker}\n", "")
    assert lint(RULE, deployment(namespace="anything"), no_ref) == []


def test_no_queue_option_is_a_warning_and_its_canaries_are_not_blamed(
    lint: Lint, deployment: Callable[..., str]
) -> None:
    (finding,) = lint(RULE, deployment(args='["-A", "app", "worker"]'))
    assert finding.severity is Severity.WARNING
    assert finding.hint == "pass them explicitly: -Q scan.vision,scan.rule"


def test_task_queue_naming_is_opt_in_and_checks_the_policy(lint: Lint) -> None:
    suite = BASE_SUITE.replace(
        "    env: [CELERY_BROKER_URL]\n", "    tasks: [scan.vision, scan.rules]\n"
    )
    task, queue = lint("task-queue-naming", "apiVersion: v1\nkind: Namespace\n", suite)
    assert (task.severity, task.path) == (Severity.ERROR, "workers[0].tasks[1]")
    assert "task scan.rules has no queue of the same name" in task.message
    assert (queue.severity, queue.path) == (Severity.WARNING, "workers[0].queues[1]")
