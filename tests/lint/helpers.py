"""Inline-YAML helpers for the lint rule tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from smoke.lint.context import LintContext
from smoke.lint.findings import Finding
from smoke.lint.manifests import parse_documents
from smoke.suite import parse_suite

BASE_SUITE = """
suite: t
deadline: 120s
settle: 30s
workers:
  - name: scan-worker
    queues: [scan.vision, scan.rule]
    kubernetes: {namespace: scan, deployment: scan-worker}
    env: [CELERY_BROKER_URL]
canaries:
  - queue: scan.vision
"""

Lint = Callable[..., list[Finding]]


def context(manifests: str, suite: str = BASE_SUITE) -> LintContext:
    return LintContext(
        suite=parse_suite(textwrap.dedent(suite), "suite.yaml", {}),
        suite_file="suite.yaml",
        suite_lines={},
        documents=tuple(parse_documents(textwrap.dedent(manifests), "m.yaml")),
    )


def deployment_yaml(
    name: str = "scan-worker",
    namespace: str = "scan",
    args: str = '["-A", "app", "worker", "-Q", "scan.vision,scan.rule"]',
    env: str = "[{name: CELERY_BROKER_URL, value: x}]",
    extra: str = "",
) -> str:
    """A Deployment document with one Celery container (YAML flow style keeps tests short)."""
    return f"""
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  template:
    spec:
      containers:
        - name: worker
          command: [celery]
          args: {args}
          env: {env}
{extra}
"""
