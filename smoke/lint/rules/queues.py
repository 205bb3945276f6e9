"""queue-coverage and task-queue-naming: what the suite expects to be consumed is consumed.

The incident: users-worker never ran, so `users.save_character` was never declared and the
reward step's calls went nowhere. A worker's Deployment must exist and its `-Q` must cover the
worker's queues; every canary queue must be consumed by some Deployment.
"""

from __future__ import annotations

from collections.abc import Iterator

from smoke.lint.context import LintContext
from smoke.lint.findings import Finding, Severity
from smoke.lint.manifests import Document
from smoke.lint.objects import Container, worker_container, workloads

RULE = "queue-coverage"
NAMING_RULE = "task-queue-naming"


def consumed_queues(container: Container) -> tuple[str, ...] | None:
    """The queues of `celery worker -Q a,b` / `--queues=a,b`; None without the option.

    Celery's `-Q` is a single comma-separated option: given twice, the last one wins.
    """
    value: str | None = None
    tokens = container.command_line()
    for i, token in enumerate(tokens):
        if token in ("-Q", "--queues") and i + 1 < len(tokens):
            value = tokens[i + 1]
        elif token.startswith("--queues="):
            value = token.partition("=")[2]
        elif token.startswith("-Q") and not token.startswith("--"):
            value = token[2:].removeprefix("=")
    if value is None:
        return None
    return tuple(q.strip() for q in value.split(",") if q.strip())


def check(ctx: LintContext) -> Iterator[Finding]:
    consumed: set[str] = set()
    for workload in workloads(ctx.documents):
        container = worker_container(workload)
        queues = consumed_queues(container) if container is not None else None
        consumed.update(queues or ())
    unknown: set[str] = set()  # queues of workers whose Deployment leaves them to the app config
    missing: dict[str, str] = {}  # queue -> worker whose Deployment is missing
    for i, worker in enumerate(ctx.suite.workers):
        doc = ctx.workload_for(worker)
        if doc is None:
            missing.update(dict.fromkeys(worker.queues, worker.name))
            yield ctx.suite_finding(
                RULE,
                Severity.ERROR,
                f"worker {worker.name}: no Deployment {ctx.expected_workload(worker)} in the "
                f"manifests, so nothing consumes {', '.join(worker.queues)}",
                f"workers[{i}]",
                hint="add the worker's Deployment to the manifests, or fix workers"
                f"[{i}].kubernetes (namespace, deployment) to name it",
                subject=f"worker {worker.name}",
            )
            continue
        container = worker_container(doc)
        queues = consumed_queues(container) if container is not None else None
        if container is None or queues is None:
            unknown.update(worker.queues)
            yield doc.finding(
                RULE,
                Severity.WARNING,
                f"worker {worker.name}: no -Q/--queues, so its queues come from the app's "
                f"configuration, which lint cannot see",
                container.path if container else "spec",
                f"pass them explicitly: -Q {','.join(worker.queues)}",
            )
            continue
        yield from _compare(
            doc, container, queues, worker=worker.name, index=i, expected=worker.queues
        )
    for i, canary in enumerate(ctx.suite.canaries):
        if canary.queue in consumed or canary.queue in unknown:
            continue
        owner = missing.get(canary.queue)
        hint = (
            f"worker {owner}'s Deployment is missing from the manifests"
            if owner
            else "add the queue to a worker Deployment's -Q, or remove the canary"
        )
        yield ctx.suite_finding(
            RULE,
            Severity.ERROR,
            f"canary queue {canary.queue} is consumed by no Deployment in the manifests",
            f"canaries[{i}]",
            hint=hint,
            subject=f"canary {canary.check_id}",
        )


def _compare(
    doc: Document,
    container: Container,
    queues: tuple[str, ...],
    *,
    worker: str,
    index: int,
    expected: tuple[str, ...],
) -> Iterator[Finding]:
    lacking = [q for q in expected if q not in queues]
    extra = [q for q in queues if q not in expected]
    where = f"{container.path}.args" if "args" in container.data else f"{container.path}.command"
    if lacking:
        yield doc.finding(
            RULE,
            Severity.ERROR,
            f"worker {worker}: -Q {','.join(queues)} does not consume {', '.join(lacking)} "
            f"(suite workers[{index}].queues)",
            where,
            f"use -Q {','.join([*queues, *lacking])}, or drop them from the suite if the "
            "worker no longer owns them",
        )
    if extra:
        yield doc.finding(
            RULE,
            Severity.WARNING,
            f"worker {worker}: consumes {', '.join(extra)}, which the suite does not check",
            where,
            f"add them to workers[{index}].queues so the smoke test covers them",
        )


def check_naming(ctx: LintContext) -> Iterator[Finding]:
    """One queue per task, named like the task (the scan team's policy)."""
    for i, worker in enumerate(ctx.suite.workers):
        problems = [
            (
                Severity.ERROR,
                f"task {task} has no queue of the same name",
                f"tasks[{j}]",
                f"route {task} to a queue named {task} and add it to the worker's queues",
            )
            for j, task in enumerate(worker.tasks)
            if task not in worker.queues
        ]
        if worker.tasks:  # a worker that lists no tasks cannot be held to the policy
            problems += [
                (
                    Severity.WARNING,
                    f"queue {queue} is named after no task",
                    f"queues[{j}]",
                    "name each queue after the one task it carries",
                )
                for j, queue in enumerate(worker.queues)
                if queue not in worker.tasks
            ]
        for severity, problem, where, hint in problems:
            yield ctx.suite_finding(
                NAMING_RULE,
                severity,
                f"worker {worker.name}: {problem}",
                f"workers[{i}].{where}",
                hint=hint,
                subject=f"worker {worker.name}",
            )
