"""Posting through the real slack_sdk clients to a Slack stand-in on loopback."""

from __future__ import annotations

import io
import json
import logging
import socket

import pytest

from smoke.errors import UsageError
from smoke.report import slack_message
from smoke.report.slack import SlackConfig, SlackOn, config_from, deliver
from smoke.results import passed
from tests.report.conftest import FakeClock
from tests.report.summaries import failing_summary, make_summary
from tests.support.slack_server import TOKEN, WEBHOOK_PATH, FakeSlack, Reply

RERUN = ["smoke run --suite jobs/eco2.yaml"]
SECRET_PARTS = ("webhook-secret-Zq81", "token-secret-Zq81")


def webhook(fake: FakeSlack, on: SlackOn = SlackOn.FAILURE) -> SlackConfig:
    return SlackConfig(webhook_url=fake.webhook_url, on=on)


def bot(fake: FakeSlack) -> SlackConfig:
    return SlackConfig(bot_token=TOKEN, channel="#deploys", api_url=fake.api_url)


def events(log: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.getvalue().splitlines()]


def assert_no_secret(*outputs: str) -> None:
    for output in outputs:
        for secret in SECRET_PARTS:
            assert secret not in output


def test_webhook_posts_the_built_message(
    slack: FakeSlack, log: io.StringIO, clock: FakeClock
) -> None:
    summary = failing_summary()
    delivery = deliver(summary, webhook(slack), RERUN, 30, clock.sleep, clock)
    assert delivery.posted
    assert delivery.attempts == 1
    assert [r.path for r in slack.requests] == [WEBHOOK_PATH]
    assert slack.posts() == [slack_message.build(summary, RERUN)]
    assert events(log)[-1] | {"timestamp": None} == {
        "posted": True,
        "via": "webhook",
        "attempts": 1,
        "thread_error": None,
        "event": "slack",
        "level": "info",
        "timestamp": None,
    }
    assert clock.sleeps == []


def test_bot_posts_the_summary_then_the_details_in_its_thread(
    slack: FakeSlack, log: io.StringIO, clock: FakeClock
) -> None:
    summary = failing_summary()
    delivery = deliver(summary, bot(slack), RERUN, 30, clock.sleep, clock)
    assert delivery.posted
    assert delivery.thread_error == ""
    main, reply = slack.requests
    assert main.path == reply.path == "/api/chat.postMessage"
    assert main.headers["Authorization"] == f"Bearer {TOKEN}"
    assert main.body["channel"] == "#deploys"
    assert main.body["blocks"] == slack_message.build(summary, RERUN)["blocks"]
    assert "thread_ts" not in main.body
    assert reply.body["thread_ts"] == "1700000000.000001"
    assert reply.body["blocks"] == slack_message.thread(summary)["blocks"]
    assert_no_secret(log.getvalue())


def test_429_waits_for_retry_after_then_posts(
    slack: FakeSlack, log: io.StringIO, clock: FakeClock
) -> None:
    slack.script = [Reply(429, {"Retry-After": "1"}, "rate_limited")]
    delivery = deliver(failing_summary(), webhook(slack), RERUN, 30, clock.sleep, clock)
    assert delivery.posted
    assert delivery.attempts == 2
    assert clock.sleeps == [1.0]
    assert len(slack.requests) == 2


def test_bot_429_honours_retry_after_too(
    slack: FakeSlack, log: io.StringIO, clock: FakeClock
) -> None:
    limited = Reply(429, {"Retry-After": "3"}, json.dumps({"ok": False, "error": "ratelimited"}))
    slack.script = [limited, limited]
    delivery = deliver(failing_summary(), bot(slack), RERUN, 30, clock.sleep, clock)
    assert delivery.posted
    assert clock.sleeps == [3.0, 3.0]
    assert len(slack.requests) == 4  # two refusals, the summary, its thread


@pytest.mark.parametrize(
    ("via", "reply"),
    [
        ("webhook", Reply(500, {}, "internal_error")),
        ("bot", Reply(503, {}, "<html>upstream down</html>")),
    ],
)
def test_an_outage_is_retried_within_the_budget_then_logged_without_secrets(
    slack: FakeSlack,
    log: io.StringIO,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    via: str,
    reply: Reply,
) -> None:
    caplog.set_level(logging.DEBUG)
    slack.forever = reply
    config = webhook(slack) if via == "webhook" else bot(slack)
    delivery = deliver(failing_summary(), config, RERUN, 12, clock.sleep, clock)
    assert not delivery.posted
    assert delivery.attempts == len(slack.requests) >= 3
    assert sum(clock.sleeps) < 12
    assert delivery.error.startswith(f"HTTP {reply.status}: ")
    last = events(log)[-1]
    assert (last["event"], last["posted"], last["via"], last["error"]) == (
        "slack",
        False,
        via,
        delivery.error,
    )
    assert_no_secret(log.getvalue(), caplog.text, delivery.error)


def test_a_refused_webhook_is_not_retried(
    slack: FakeSlack, log: io.StringIO, clock: FakeClock
) -> None:
    slack.script = [Reply(404, {}, "no_service")]
    delivery = deliver(failing_summary(), webhook(slack), RERUN, 30, clock.sleep, clock)
    assert (delivery.posted, delivery.attempts, delivery.error) == (
        False,
        1,
        "HTTP 404: no_service",
    )
    assert clock.sleeps == []


def test_a_bad_token_is_not_retried(slack: FakeSlack, log: io.StringIO, clock: FakeClock) -> None:
    config = SlackConfig(bot_token="xoxb-wrong", channel="#deploys", api_url=slack.api_url)
    delivery = deliver(failing_summary(), config, RERUN, 30, clock.sleep, clock)
    assert (delivery.posted, delivery.attempts) == (False, 1)
    assert delivery.error == "HTTP 200: invalid_auth"
    assert "xoxb-wrong" not in log.getvalue()


def test_nobody_listening_is_an_outage_too(log: io.StringIO, clock: FakeClock) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener now
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}{WEBHOOK_PATH}"
    delivery = deliver(
        failing_summary(), SlackConfig(webhook_url=url), RERUN, 4, clock.sleep, clock
    )
    assert not delivery.posted
    assert delivery.attempts >= 2
    assert "Connection refused" in delivery.error
    assert_no_secret(log.getvalue(), delivery.error)


def test_the_first_attempt_goes_out_even_with_no_time_left(
    slack: FakeSlack, log: io.StringIO, clock: FakeClock
) -> None:
    slack.forever = Reply(500, {}, "internal_error")
    delivery = deliver(failing_summary(), webhook(slack), RERUN, 0, clock.sleep, clock)
    assert (delivery.posted, delivery.attempts, clock.sleeps) == (False, 1, [])


@pytest.mark.parametrize(
    ("on", "verdict_passes", "posts"),
    [
        (SlackOn.FAILURE, False, True),
        (SlackOn.FAILURE, True, False),
        (SlackOn.ALWAYS, True, True),
        (SlackOn.NEVER, False, False),
    ],
)
def test_slack_on_decides_which_verdicts_post(
    slack: FakeSlack,
    log: io.StringIO,
    clock: FakeClock,
    on: SlackOn,
    verdict_passes: bool,
    posts: bool,
) -> None:
    summary = make_summary((passed("ping:a"),)) if verdict_passes else failing_summary()
    delivery = deliver(summary, webhook(slack, on), RERUN, 30, clock.sleep, clock)
    assert delivery.posted is posts
    assert len(slack.requests) == int(posts)


def test_config_from_environment_and_flags() -> None:
    hook = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x"}
    assert config_from({}, None, None) is None
    assert config_from({}, None, "never") is None
    assert config_from(hook, None, None) == SlackConfig(webhook_url=hook["SLACK_WEBHOOK_URL"])
    both = config_from({**hook, "SLACK_BOT_TOKEN": TOKEN}, "#ops", "always")
    assert both is not None
    assert (both.uses_bot, both.on) == (True, SlackOn.ALWAYS)
    token_without_channel = config_from({**hook, "SLACK_BOT_TOKEN": TOKEN}, None, None)
    assert token_without_channel is not None
    assert not token_without_channel.uses_bot


@pytest.mark.parametrize(
    ("environ", "channel", "on", "message"),
    [
        ({}, "#ops", None, "--slack-channel needs SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": TOKEN}, None, None, "SLACK_BOT_TOKEN needs --slack-channel"),
        ({}, None, "always", "--slack-on always needs SLACK_WEBHOOK_URL or SLACK_BOT_TOKEN"),
    ],
)
def test_contradictory_slack_settings_are_usage_errors(
    environ: dict[str, str], channel: str | None, on: str | None, message: str
) -> None:
    with pytest.raises(UsageError, match=message) as raised:
        config_from(environ, channel, on)
    assert TOKEN not in str(raised.value)
