"""The issue's acceptance test: the incident's manifests before the fix fail with the three
problems the review found by hand, each located in its file with a hint; the fixed ones pass."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from smoke.errors import ExitCode
from smoke.lint.command import run_lint

FIXTURES = Path(__file__).parent / "fixtures"
SUITE = str(FIXTURES / "suite.yaml")
SECRETS = "manifests/workloads/secrets/external-secrets"


def lint(state: str, *, code: bool = True) -> tuple[dict[str, Any], ExitCode]:
    base = FIXTURES / f"incident-{state}"
    output, exit_code = run_lint(
        SUITE,
        [str(base / "manifests")],
        code_dir=str(base / "code") if code else None,
        enable=(),
        disable=(),
        fmt="json",
        stdin=io.StringIO(),
    )
    return json.loads(output), exit_code


def by_rule(report: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == rule]


def test_before_the_fix_all_three_problems_are_reported() -> None:
    report, exit_code = lint("before")
    assert exit_code is ExitCode.CHECK_FAILED
    assert {f["severity"] for f in report["findings"]} == {"error"}

    # 3.1: the wrong username, in exactly the three files the review changed.
    drift = by_rule(report, "broker-credential-drift")
    base = FIXTURES / "incident-before" / SECRETS
    assert sorted(f["file"] for f in drift) == sorted(
        str(base / name)
        for name in (
            "dev/api-secrets.yaml",
            "dev/users-api-secrets.yaml",
            "prod/users-api-secrets.yaml",
        )
    )
    for finding in drift:
        assert finding["path"] == "spec.target.template.data.CELERY_BROKER_URL"
        assert "user 'rabbitmq' differs from 'admin'" in finding["message"]
        assert "use user 'admin'" in finding["hint"]

    # 3.2: the env_prefix the settings use and the Deployment does not.
    (env,) = by_rule(report, "env-name-mismatch")
    assert env["file"].endswith("incident-before/manifests/workloads/scan-worker/deployment.yaml")
    assert "SCAN_WORKER_CELERY_BROKER_URL" in env["message"]
    assert "apps/scan_worker/setup/config.py:8" in env["message"]
    assert "remove env_prefix" in env["hint"]

    # 2.2: users-worker never ran, so users.save_character had no consumer.
    worker, canary = by_rule(report, "queue-coverage")
    assert (worker["file"], worker["path"]) == (SUITE, "workers[2]")
    assert "no Deployment users/users-worker" in worker["message"]
    assert canary["path"] == "canaries[6]"
    assert "users.save_character" in canary["message"]
    assert all(f["line"] for f in report["findings"])


def test_after_the_fix_nothing_is_reported() -> None:
    report, exit_code = lint("after")
    assert exit_code is ExitCode.PASSED
    assert report["findings"] == []
    assert report["documents"] == 14


def test_the_prefix_comes_from_the_code_when_the_suite_does_not_declare_it() -> None:
    report, _ = lint("before", code=False)
    assert by_rule(report, "env-name-mismatch") == []
