"""`smoke run` end to end, outputs only: a broker that refuses the runner gives a real Summary
(verdict error, exit 3) without any worker, and that Summary must reach Slack and JUnit."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from junitparser import JUnitXml

from smoke.errors import ExitCode
from tests.conftest import cli_env, run_cli
from tests.support.slack_server import TOKEN, FakeSlack, Reply

pytestmark = pytest.mark.integration

REFUSING_BROKER = "amqp://guest:wrong-password-Zq81@127.0.0.1:5672//"
SECRETS = ("webhook-secret-Zq81", "token-secret-Zq81", "wrong-password-Zq81")
SUITE = """\
suite: demo
deadline: {deadline}
settle: 1s
context: {{env: prod, app: scan, revision: 1a2b3c}}
workers:
  - name: scan-worker
    queues: [scan.vision]
canaries:
  - queue: scan.vision
"""


def smoke_run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, deadline: str = "20s"
) -> subprocess.CompletedProcess[str]:
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE.format(deadline=deadline))
    return run_cli(
        "run", "--suite", str(suite), "--broker", REFUSING_BROKER, *args,
        env=cli_env(**(env or {})),
        timeout=60,
    )  # fmt: skip


def assert_no_secret(done: subprocess.CompletedProcess[str]) -> None:
    for secret in SECRETS:
        assert secret not in done.stdout
        assert secret not in done.stderr


def test_a_run_that_cannot_run_still_reaches_slack_and_junit(
    tmp_path: Path, slack: FakeSlack
) -> None:
    report = tmp_path / "out" / "smoke.xml"
    done = smoke_run(
        tmp_path,
        "--junit",
        str(report),
        "--run-id",
        "Deploy-42",
        env={"SLACK_WEBHOOK_URL": slack.webhook_url, "POD_NAMESPACE": "smoke"},
    )
    assert done.returncode == ExitCode.COULD_NOT_RUN, done.stderr
    assert_no_secret(done)
    (message,) = slack.posts()
    assert message["blocks"][0]["text"]["text"] == ":warning: COULD NOT RUN: demo"
    flat = json.dumps(message)
    assert "AccessRefused" in flat
    assert "kubectl create job smoke-deploy-42 --from=cronjob/celery-smoke -n smoke" in flat
    assert f"smoke run --suite {tmp_path / 'suite.yaml'}" in flat
    (suite,) = list(JUnitXml.fromfile(str(report)))
    assert (suite.tests, suite.errors, suite.skipped) == (5, 1, 4)
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["event"] for e in events][-2:] == ["verdict", "slack"]
    assert events[-1]["posted"] is True


def test_a_slack_outage_neither_hides_nor_flips_the_verdict(
    tmp_path: Path, slack: FakeSlack
) -> None:
    slack.forever = Reply(500, {}, "internal_error")
    started = time.monotonic()
    done = smoke_run(tmp_path, env={"SLACK_WEBHOOK_URL": slack.webhook_url}, deadline="3s")
    elapsed = time.monotonic() - started
    assert done.returncode == ExitCode.COULD_NOT_RUN, done.stderr
    assert_no_secret(done)
    slack_event = json.loads(done.stdout.splitlines()[-1])
    assert (slack_event["event"], slack_event["posted"]) == ("slack", False)
    assert slack_event["error"] == "HTTP 500: internal_error"
    assert slack_event["attempts"] == len(slack.requests) >= 2
    # Retries stop within what the 3s suite deadline leaves, plus process start-up.
    assert elapsed < 15


def test_the_table_keeps_stdout_for_people_and_logs_slack_on_stderr(
    tmp_path: Path, slack: FakeSlack
) -> None:
    slack.forever = Reply(404, {}, "no_service")
    done = smoke_run(tmp_path, "--format", "table", env={"SLACK_WEBHOOK_URL": slack.webhook_url})
    assert done.returncode == ExitCode.COULD_NOT_RUN
    assert done.stdout.splitlines()[-3].startswith("suite demo, run ")
    assert done.stdout.splitlines()[-1].startswith("could not run: broker refused our login")
    assert json.loads(done.stderr)["error"] == "HTTP 404: no_service"
    assert_no_secret(done)


def test_slack_on_never_posts_nothing(tmp_path: Path, slack: FakeSlack) -> None:
    done = smoke_run(tmp_path, "--slack-on", "never", env={"SLACK_WEBHOOK_URL": slack.webhook_url})
    assert done.returncode == ExitCode.COULD_NOT_RUN
    assert slack.requests == []


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--slack-channel", "#ops"], {}, "--slack-channel needs SLACK_BOT_TOKEN (a webhook"),
        ([], {"SLACK_BOT_TOKEN": TOKEN}, "SLACK_BOT_TOKEN needs --slack-channel"),
        (["--junit", "{tmp}/a-file/smoke.xml"], {}, "cannot write {tmp}/a-file/smoke.xml: "),
    ],
)
def test_bad_report_settings_are_usage_errors_before_the_run(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    (tmp_path / "a-file").write_text("")
    done = smoke_run(tmp_path, *[a.format(tmp=tmp_path) for a in args], env=env)
    assert done.returncode == ExitCode.BAD_INPUT
    assert done.stderr.startswith(f"smoke: error: {message.format(tmp=tmp_path)}")
    assert done.stderr.count("\n") == 1
    assert done.stdout == ""
    assert_no_secret(done)
