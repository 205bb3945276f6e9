from __future__ import annotations

from collections.abc import Callable

import pytest

from smoke.lint.findings import Finding
from smoke.lint.rules import RULES
from tests.lint.helpers import BASE_SUITE, Lint, context, deployment_yaml


@pytest.fixture
def lint() -> Lint:
    """lint(rule, manifests, suite=...) -> the rule's findings on inline YAML."""

    def run(rule: str, manifests: str, suite: str = BASE_SUITE) -> list[Finding]:
        return list(RULES[rule](context(manifests, suite)))

    return run


@pytest.fixture
def deployment() -> Callable[..., str]:
    return deployment_yaml
