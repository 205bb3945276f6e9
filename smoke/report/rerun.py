"""How to run this smoke test again: the Kubernetes one-liner (DESIGN section 1) and the local form.

A pure function of the summary, the suite file and the environment, so every reporter prints the
same commands and tests can pin them down.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from smoke.results import Summary

CRONJOB = "celery-smoke"
NAMESPACE_ENV = "POD_NAMESPACE"
_K8S_NAME_MAX = 63


def job_name(run_id: str) -> str:
    """`smoke-<run_id>` as a valid Kubernetes object name (RFC 1123 label)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", run_id.lower()).strip("-") or "rerun"
    return f"smoke-{slug}"[:_K8S_NAME_MAX].rstrip("-")


def namespace(summary: Summary, environ: Mapping[str, str]) -> str | None:
    return environ.get(NAMESPACE_ENV) or summary.context.get("namespace") or None


def commands(summary: Summary, suite_file: str | None, environ: Mapping[str, str]) -> list[str]:
    """The rerun commands, Kubernetes first when the namespace is known."""
    found: list[str] = []
    ns = namespace(summary, environ)
    if ns:
        found.append(
            f"kubectl create job {job_name(summary.run_id)} --from=cronjob/{CRONJOB} "
            f"-n {shlex.quote(ns)}"
        )
    if suite_file:
        found.append(f"smoke run --suite {shlex.quote(suite_file)}")
    return found
