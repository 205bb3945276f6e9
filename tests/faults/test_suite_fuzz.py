"""The suite loader under fuzzing: whatever the file holds, a SuiteError (exit 2, one line), never
a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smoke.errors import SuiteError
from smoke.suite import Suite, parse_suite
from tests.conftest import cli_env, run_cli

FIELDS = ("suite", "broker", "result_backend", "deadline", "settle", "context", "workers",
          "canaries", "lint")  # fmt: skip
WORKER_FIELDS = ("name", "nodes", "min_nodes", "queues", "tasks", "kubernetes", "env", "env_prefix")
CANARY_FIELDS = ("queue", "task", "args", "kwargs", "expect", "timeout", "id")
WORDS = ("${CELERY_BROKER_URL}", "${MISSING}", "${X:-fallback}", "${", "30s", "2m", "0s", "-1",
         "500ms", "celery@scan-worker-*", "scan.vision", "2024-13-01", "~", "", "*")  # fmt: skip
ENVIRON = {"CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672/x", "X": "1"}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.sampled_from(WORDS),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(FIELDS), inner, max_size=4)
    ),
    max_leaves=20,
)


def entries(fields: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(fields), values, max_size=len(fields))


near_suites = st.fixed_dictionaries(
    {"suite": st.sampled_from(["eco2", ""]) | values},
    optional={
        "workers": st.lists(entries(WORKER_FIELDS), max_size=3) | values,
        "canaries": st.lists(entries(CANARY_FIELDS), max_size=3) | values,
        **{f: values for f in FIELDS if f not in ("suite", "workers", "canaries")},
    },
)


def parses_or_says_why(text: str) -> None:
    try:
        assert isinstance(parse_suite(text, "fuzz.yaml", ENVIRON), Suite)
    except SuiteError as exc:
        assert str(exc).startswith("fuzz.yaml")
        assert "\n" not in exc.problem


@settings(max_examples=300, deadline=None)
@given(st.text() | st.sampled_from(WORDS).map(lambda w: f"suite: {w}\nworkers: [{w}]"))
def test_any_text(text: str) -> None:
    parses_or_says_why(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values | near_suites)
def test_any_yaml_structure(data: Any) -> None:
    parses_or_says_why(yaml.safe_dump(data))


def test_known_crashers() -> None:
    for text in ("a: 2001-13-01", "[" * 5000, "x: &a [*a]", "suite: s\ncontext: &c {a: *c}"):
        parses_or_says_why(text)


def test_cli_says_one_line_and_exits_2(tmp_path: Path) -> None:
    suite = tmp_path / "bad.yaml"
    suite.write_text("suite: eco2\ndeadline: 2024-13-01\nworkers: &w [*w]\n")
    result = run_cli("run", "--suite", str(suite), env=cli_env())
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("smoke: error: "), (
        result.stderr
    )
