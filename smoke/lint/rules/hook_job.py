"""hook-job: the smoke Job itself is wired so Argo CD waits for it and it cannot hang a sync.

Applies to Jobs and CronJobs whose container runs `smoke run`. A Job needs the PostSync hook
annotation; both need a finite `activeDeadlineSeconds` above the suite deadline, and no
`ttlSecondsAfterFinished` so small that the Job is gone before Argo CD sees it finish.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any, TypeGuard

from smoke.lint.context import LintContext
from smoke.lint.findings import Finding, Severity
from smoke.lint.manifests import Document, field_path
from smoke.lint.objects import containers

RULE = "hook-job"
ARGO_HOOK = "argocd.argoproj.io/hook"
HELM_HOOK = "helm.sh/hook"
# Argo CD reconciles every 180 s by default; a Job deleted sooner may never be seen finished
# (DESIGN section 7), so anything under one reconcile period plus margin is a race.
MIN_TTL_SECONDS = 300
# Room for scheduling and image pull on top of the suite's own deadline.
DEADLINE_MARGIN_SECONDS = 60


def runs_smoke(doc: Document) -> bool:
    for container in containers(doc):
        tokens = container.command_line()
        for i, token in enumerate(tokens):
            if os.path.basename(token) == "smoke" and "run" in tokens[i + 1 :]:
                return True
    return False


def check(ctx: LintContext) -> Iterator[Finding]:
    for doc in ctx.documents:
        if doc.kind == "Job" and runs_smoke(doc):
            yield from _hook_annotation(doc)
            yield from _job_spec(doc, "spec", ctx.suite.deadline)
        elif doc.kind == "CronJob" and runs_smoke(doc):
            yield from _job_spec(doc, "spec.jobTemplate.spec", ctx.suite.deadline)


def _hook_annotation(doc: Document) -> Iterator[Finding]:
    annotations = doc.get("metadata", "annotations", default={})
    annotations = annotations if isinstance(annotations, Mapping) else {}
    argo = _phases(annotations.get(ARGO_HOOK))
    helm = _phases(annotations.get(HELM_HOOK))
    if "PostSync" in argo or {"post-install", "post-upgrade"} & helm:
        return
    found = annotations.get(ARGO_HOOK) or annotations.get(HELM_HOOK)
    message = (
        f"the smoke Job runs as hook {found!r}, before the workers are up"
        if found
        else "the smoke Job is not an Argo CD hook, so the sync does not wait for its verdict"
    )
    yield doc.finding(
        RULE,
        Severity.ERROR,
        message,
        field_path("metadata.annotations", ARGO_HOOK) if found else "metadata",
        f"annotate it `{ARGO_HOOK}: PostSync` and "
        "`argocd.argoproj.io/hook-delete-policy: BeforeHookCreation`",
    )


def _job_spec(doc: Document, spec_path: str, deadline: float) -> Iterator[Finding]:
    spec = doc.get(*spec_path.split("."), default={})
    spec = spec if isinstance(spec, Mapping) else {}
    wanted = int(deadline) + DEADLINE_MARGIN_SECONDS
    active = spec.get("activeDeadlineSeconds")
    path = f"{spec_path}.activeDeadlineSeconds"
    if not _is_int(active):
        yield doc.finding(
            RULE,
            Severity.ERROR,
            "no activeDeadlineSeconds: a hung smoke run would hold the sync forever",
            spec_path if active is None else path,
            f"set activeDeadlineSeconds: {wanted} (suite deadline {deadline:g}s + "
            f"{DEADLINE_MARGIN_SECONDS}s)",
        )
    elif active <= deadline:
        yield doc.finding(
            RULE,
            Severity.ERROR,
            f"activeDeadlineSeconds {active} does not exceed the suite deadline "
            f"({deadline:g}s): Kubernetes kills the run before it can report",
            path,
            f"set activeDeadlineSeconds: {wanted}",
        )
    ttl = spec.get("ttlSecondsAfterFinished")
    if _is_int(ttl) and ttl < MIN_TTL_SECONDS:
        yield doc.finding(
            RULE,
            Severity.ERROR,
            f"ttlSecondsAfterFinished {ttl} can delete the Job before Argo CD sees it finish "
            "(the sync then hangs)",
            f"{spec_path}.ttlSecondsAfterFinished",
            f"remove it (the hook delete policy cleans up) or set it to at least {MIN_TTL_SECONDS}",
        )


def _phases(value: Any) -> set[str]:
    return {part.strip() for part in str(value).split(",")} if value else set()


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
