from __future__ import annotations

from pathlib import Path

import pytest

from smoke.durations import parse_duration
from smoke.errors import SuiteError
from smoke.suite import load_suite, parse_suite

MINIMAL = """
suite: eco2
workers:
  - name: scan-worker
    queues: [scan.vision]
"""


def parse(text: str, **env: str):
    return parse_suite(text, "suite.yaml", env)


def test_defaults_follow_the_design() -> None:
    suite = parse(MINIMAL)
    worker = suite.workers[0]
    assert (suite.deadline, suite.settle, suite.broker) == (120.0, 60.0, None)
    assert (worker.nodes, worker.min_nodes, worker.tasks) == ("celery@scan-worker-*", 1, ())


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("2m", 120.0), ("500ms", 0.5), (45, 45.0), ("1.5", 1.5), ("1h", 3600.0)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "-1s", 0, True, "10 parsecs", None])
def test_bad_durations_are_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_env_expansion_and_fallback() -> None:
    text = MINIMAL + "broker: ${CELERY_BROKER_URL}\ncontext: {env: '${SMOKE_ENV:-dev}'}\n"
    suite = parse(text, CELERY_BROKER_URL="amqp://admin:pw@rabbit/eco2")
    assert suite.broker == "amqp://admin:pw@rabbit/eco2"
    assert suite.context == {"env": "dev"}


def test_missing_env_variable_names_it_and_where() -> None:
    with pytest.raises(SuiteError) as caught:
        parse(MINIMAL + "broker: ${CELERY_BROKER_URL}\n")
    assert (
        str(caught.value) == "suite.yaml: broker: environment variable CELERY_BROKER_URL is not set"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "  - name: users-worker\n    queues: users.save_character\n",
            "workers[1].queues: input should be a list",
        ),
        ("  - name: users-worker\n", "workers[1].queues: required field is missing"),
        (
            "  - name: users-worker\n    queues: [q]\n    quues: [q]\n",
            "workers[1].quues: unknown field",
        ),
        (
            "  - name: users-worker\n    queues: [q]\n    min_nodes: 0\n",
            "workers[1].min_nodes: input should be",
        ),
    ],
)
def test_errors_name_the_path(extra: str, message: str) -> None:
    with pytest.raises(SuiteError) as caught:
        parse(MINIMAL + extra)
    assert str(caught.value).startswith(f"suite.yaml: {message}")


def test_duplicate_canary_ids_are_rejected_with_a_hint() -> None:
    text = MINIMAL + "canaries:\n  - queue: scan.vision\n  - queue: scan.vision\n    timeout: 5s\n"
    with pytest.raises(
        SuiteError, match=r"canaries\[0\] and canaries\[1\] both produce 'canary:scan.vision'.*id:"
    ):
        parse(text)
    parse(text + "    id: vision-again\n")


def test_probe_canary_takes_no_arguments() -> None:
    with pytest.raises(SuiteError, match=r"canaries\[0\]: args, kwargs and expect need `task:`"):
        parse(MINIMAL + "canaries:\n  - queue: scan.vision\n    kwargs: {a: 1}\n")


def test_settle_cannot_exceed_deadline() -> None:
    with pytest.raises(SuiteError, match="settle"):
        parse(MINIMAL + "deadline: 10s\nsettle: 20s\n")


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(SuiteError, match=r"suite.yaml: line \d+, column \d+: invalid YAML"):
        parse("suite: [unclosed\n")


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(SuiteError, match="expected a mapping"):
        parse("- a\n- b\n")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="cannot read"):
        load_suite(tmp_path / "absent.yaml")


def test_queues_are_listed_once_in_file_order() -> None:
    text = (
        MINIMAL
        + "canaries:\n  - queue: users.save_character\n  - queue: scan.vision\n    id: again\n"
    )
    assert parse(text).queues() == ("scan.vision", "users.save_character")


def test_shipped_eco2_suite_is_valid() -> None:
    suite = load_suite(
        Path(__file__).parents[2] / "jobs" / "eco2.yaml",
        {"CELERY_BROKER_URL": "amqp://admin:x@rabbit/eco2", "CELERY_RESULT_BACKEND": "redis://r"},
    )
    assert [w.name for w in suite.workers] == ["scan-worker", "character-worker", "users-worker"]
    assert "users.save_character" in suite.queues()


def test_the_readme_suite_example_is_valid() -> None:
    # The README's suite block is what users copy: it must stay a suite the loader accepts.
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    suite = parse(
        block, CELERY_BROKER_URL="amqp://admin:x@rabbit/eco2", CELERY_RESULT_BACKEND="redis://r"
    )
    assert [c.check_id for c in suite.canaries] == [
        "canary:scan.vision",
        "canary:users.save_character",
        "canary:scan.reward-dry-run",
    ]
