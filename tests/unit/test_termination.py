"""The pod termination message: compact, always under Kubernetes' 4096-byte cap, no secrets."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smoke.errors import ExitCode
from smoke.report import termination
from smoke.results import CheckResult, Status, Summary, errored, failed, passed
from tests.conftest import run_cli

SECRET = "hunter2-very-secret"


def summary(checks: list[CheckResult], error: str = "") -> Summary:
    return Summary(
        suite="eco2",
        run_id="r1",
        started_at=datetime(2026, 1, 7, tzinfo=UTC),
        duration_s=61.25,
        checks=tuple(checks),
        context={"env": "prod"},
        error=error,
    )


def test_failed_checks_come_with_verdict_counts_and_the_rerun_command() -> None:
    text = termination.render(
        summary(
            [
                passed("ping:scan-worker"),
                failed("pods:users-worker", "1 of 1 Ready pod(s) never answered a ping"),
            ]
        ),
        namespace="celery-smoke",
    )
    lines = text.splitlines()
    assert lines[0] == "celery-smoke eco2: FAIL (1 pass, 1 fail) in 61.2s, run r1"
    assert "context: env=prod" in lines
    assert "FAIL pods:users-worker: 1 of 1 Ready pod(s) never answered a ping" in lines
    assert lines[-1].endswith("--from=cronjob/celery-smoke -n celery-smoke")


def test_no_secret_reaches_the_message() -> None:
    url = f"amqp://admin:{SECRET}@rabbitmq:5672/eco2"
    text = termination.render(
        summary([errored("queue:scan.vision", f"cannot reach {url}")], error=f"refused by {url}")
    )
    assert SECRET not in text
    assert "amqp://admin:**@rabbitmq:5672/eco2" in text


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=60), st.text(max_size=3000)),
        min_size=0,
        max_size=300,
    )
)
def test_message_stays_under_the_cap_and_counts_what_it_left_out(
    entries: list[tuple[str, str]],
) -> None:
    checks = [failed(f"canary:{i}-{name}", reason) for i, (name, reason) in enumerate(entries)]
    text = termination.render(summary(checks))
    assert len(text.encode("utf-8")) < termination.LIMIT_BYTES
    shown = sum(line.startswith("FAIL canary:") for line in text.splitlines())
    if shown < len(checks):
        assert f"... and {len(checks) - shown} more failed checks" in text
    else:
        assert "more failed checks" not in text


def test_explicit_path_is_written_and_empty_path_turns_it_off(tmp_path: Path) -> None:
    target = tmp_path / "termination-log"
    result = summary([CheckResult("ping:w", Status.PASS)])
    termination.write(result, "")
    assert not target.exists()
    termination.write(result, str(target))
    assert target.read_text().startswith("celery-smoke eco2: PASS (1 pass)")


def test_default_path_is_only_written_where_it_already_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = tmp_path / "dev" / "termination-log"
    monkeypatch.setattr(termination, "DEFAULT_PATH", default)
    result = summary([failed("ping:w", "no node answered")])
    termination.write(result, None)
    assert not default.exists()  # outside a pod: nothing is created
    default.parent.mkdir()
    default.write_text("")
    termination.write(result, None)
    assert "FAIL ping:w: no node answered" in default.read_text()


def test_cli_writes_the_message_when_the_broker_cannot_be_reached(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    suite = tmp_path / "suite.yaml"
    suite.write_text("suite: t\ndeadline: 3s\nsettle: 0.3s\nworkers: [{name: w, queues: [q]}]\n")
    target = tmp_path / "termination-log"
    broker = f"amqp://guest:{SECRET}@127.0.0.1:{port}//"
    done = run_cli(
        "run", "--suite", str(suite), "--broker", broker,
        "--format", "json", "--termination-log", str(target),
        timeout=60,
    )  # fmt: skip
    assert done.returncode == ExitCode.COULD_NOT_RUN, done.stderr
    text = target.read_text()
    assert text.startswith("celery-smoke t: ERROR")
    assert "could not run:" in text and SECRET not in text
