"""`smoke lint` as CI runs it: a subprocess, exit codes, stdin, and no secret in any output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SUITE = str(FIXTURES / "suite.yaml")
BEFORE = FIXTURES / "incident-before"
AFTER = FIXTURES / "incident-after"
PASSWORD = "FakePassw0rd-Do-Not-Print"


def smoke_lint(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smoke", "lint", "--suite", SUITE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_exit_1_before_the_fix_and_0_after() -> None:
    before = smoke_lint(str(BEFORE / "manifests"), "--code", str(BEFORE / "code"))
    assert before.returncode == 1, before.stderr
    assert json.loads(before.stdout)["counts"] == {"error": 6, "warning": 0}
    after = smoke_lint(str(AFTER / "manifests"), "--code", str(AFTER / "code"), "--format", "text")
    assert (after.returncode, after.stderr) == (0, "")
    assert after.stdout.startswith("smoke lint: 0 errors, 0 warnings in 14 documents")


def test_kustomize_output_on_stdin() -> None:
    stream = "\n---\n".join(p.read_text() for p in sorted((BEFORE / "manifests").rglob("*.yaml")))
    result = smoke_lint("-", "--format", "text", stdin=stream)
    assert result.returncode == 1
    assert "<stdin>:" in result.stdout
    assert "[broker-credential-drift]" in result.stdout


def test_rules_can_be_disabled_by_flag() -> None:
    disabled = [f"--disable={rule}" for rule in ("broker-credential-drift", "queue-coverage")]
    result = smoke_lint(str(BEFORE / "manifests"), *disabled)
    assert (result.returncode, json.loads(result.stdout)["findings"]) == (0, [])


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_a_literal_password_is_never_printed(fmt: str) -> None:
    result = smoke_lint(str(FIXTURES / "literal-password"), "--format", fmt)
    assert result.returncode == 1
    assert PASSWORD not in result.stdout + result.stderr
    assert "rabbitmq:**@" in result.stdout or fmt != "text"
    if fmt == "sarif":
        run = json.loads(result.stdout)["runs"][0]
        assert {r["ruleId"] for r in run["results"]} >= {"broker-credential-drift"}
        assert all(
            r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run["results"]
        )
    if fmt == "text":
        assert "kinds not checked: Service x1" in result.stdout


@pytest.mark.parametrize(
    ("stdin", "args", "expected"),
    [
        ("kind: [unclosed\n", ["-"], "smoke: error: <stdin>: line 2, column 1: invalid YAML"),
        ("apiVersion: v1\nitems: []\n", ["-"], "not a Kubernetes object"),
        ("", ["/no/such/manifests"], "/no/such/manifests: no such file or directory"),
        ("---\n", ["-"], "no Kubernetes documents found"),
        ("", ["-", "--disable", "no-such-rule"], "Invalid value for '--disable'"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(
    stdin: str, args: list[str], expected: str
) -> None:
    result = smoke_lint(*args, stdin=stdin)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_bad_suite_is_bad_input(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text("suite: t\nworkers: [{name: w, queues: [q]}]\nlint: {disable: [nope]}\n")
    result = subprocess.run(
        [sys.executable, "-m", "smoke", "lint", "--suite", str(suite), "-"],
        input="apiVersion: v1\nkind: Secret\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "lint.disable[0]" in result.stderr
