from __future__ import annotations

import typing

import pytest

from smoke.errors import SuiteError
from smoke.lint.rules import RULES, selected
from smoke.suite import LintRuleId, parse_suite


def test_every_rule_id_the_suite_accepts_is_implemented() -> None:
    assert set(RULES) == set(typing.get_args(LintRuleId))


def test_opt_in_rules_need_enable_and_disable_wins() -> None:
    assert "task-queue-naming" not in selected([], [])
    assert "task-queue-naming" in selected(["task-queue-naming"], [])
    assert selected(["task-queue-naming"], ["task-queue-naming", "hook-job"]) == [
        "broker-credential-drift",
        "env-name-mismatch",
        "queue-coverage",
    ]


SUITE = "suite: t\nworkers: [{name: w, queues: [q], env: [%s], env_prefix: %s}]\nlint: %s\n"


def test_suite_lint_fields_are_validated() -> None:
    suite = parse_suite(SUITE % ("CELERY_BROKER_URL", "SCAN_", "{disable: [hook-job]}"), "s", {})
    assert suite.workers[0].env == ("CELERY_BROKER_URL",)
    assert suite.lint.disable == ("hook-job",)
    with pytest.raises(SuiteError, match=r"s: lint\.disable\[0\]: input should be"):
        parse_suite(SUITE % ("A", "B", "{disable: [no-such-rule]}"), "s", {})
    with pytest.raises(SuiteError, match=r"workers\[0\]\.env\[0\]"):
        parse_suite(SUITE % ("'BAD NAME'", "B", "{}"), "s", {})
    with pytest.raises(SuiteError, match=r"workers\[0\]\.env_prefix"):
        parse_suite(SUITE % ("A", "'bad-prefix'", "{}"), "s", {})
