"""Post the run's Slack message: an incoming webhook, or a bot token with a thread of details.

Slack is a courtesy, never a judge: every failure here is logged (no webhook URL, no token) and
returned as data; nothing raised from here may change the run's exit code. Retries honour 429's
Retry-After and stop within the time the run has left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential_jitter

from smoke.errors import UsageError
from smoke.redact import MASK, redact_text
from smoke.report import jsonlines, slack_message
from smoke.results import Summary, Verdict

WEBHOOK_ENV = "SLACK_WEBHOOK_URL"
TOKEN_ENV = "SLACK_BOT_TOKEN"
SLACK_API = "https://slack.com/api/"
MAX_BUDGET_S = 30.0
MAX_ATTEMPT_TIMEOUT_S = 10
MIN_ATTEMPT_TIMEOUT_S = 3

# slack_sdk logs request URLs (a webhook's secret) and, at debug, headers (the token). Its logger is
# one no logging setup can reach: outside the logger tree, with a level above every record.
_SDK_LOG = logging.Logger("smoke.slack_sdk", level=logging.CRITICAL + 1)


class SlackOn(StrEnum):
    FAILURE = "failure"
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True)
class SlackConfig:
    webhook_url: str | None = None
    bot_token: str | None = None
    channel: str | None = None
    on: SlackOn = SlackOn.FAILURE
    api_url: str = SLACK_API

    def wants(self, verdict: Verdict) -> bool:
        if self.on is SlackOn.NEVER:
            return False
        return self.on is SlackOn.ALWAYS or verdict is not Verdict.PASS

    @property
    def uses_bot(self) -> bool:
        return bool(self.bot_token and self.channel)

    def scrub(self, text: str) -> str:
        """Mask this config's own secrets wherever they turn up, then every known secret shape."""
        for secret in (self.webhook_url, self.bot_token):
            if secret:
                text = text.replace(secret, MASK)
        return redact_text(text)


def config_from(
    environ: Mapping[str, str], channel: str | None, on: str | None
) -> SlackConfig | None:
    """Slack settings from the environment and flags; None when Slack is not configured.

    Contradictions are usage errors, raised before the run: a misconfigured Slack should be fixed
    once, not discovered after every failing deploy.
    """
    webhook = environ.get(WEBHOOK_ENV) or None
    token = environ.get(TOKEN_ENV) or None
    if channel and not token:
        raise UsageError(f"--slack-channel needs {TOKEN_ENV} (a webhook posts to its own channel)")
    if token and not channel and not webhook:
        raise UsageError(f"{TOKEN_ENV} needs --slack-channel")
    if not webhook and not token:
        if on in (SlackOn.ALWAYS, SlackOn.FAILURE):
            raise UsageError(f"--slack-on {on} needs {WEBHOOK_ENV} or {TOKEN_ENV}")
        return None
    return SlackConfig(webhook, token, channel, SlackOn(on or SlackOn.FAILURE))


class PostFailed(Exception):
    def __init__(self, message: str, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


@dataclass(frozen=True)
class Delivery:
    posted: bool
    attempts: int
    error: str = ""
    thread_error: str = ""


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None


def _http_failure(status: int, headers: Mapping[str, Any] | None, what: str) -> PostFailed:
    return PostFailed(
        f"HTTP {status}: {what}",
        transient=status == 429 or status >= 500,
        retry_after=retry_after(headers) if status == 429 else None,
    )


# slack_sdk is imported where a post is made: most runs post nothing, and importing it costs every
# `smoke run` ~40 ms of start-up before the first check.
def _send_webhook(config: SlackConfig, payload: dict[str, Any], timeout: int) -> str | None:
    from slack_sdk.webhook import WebhookClient  # noqa: PLC0415

    assert config.webhook_url
    client = WebhookClient(config.webhook_url, timeout=timeout, logger=_SDK_LOG, retry_handlers=[])
    response = client.send_dict(payload)
    if response.status_code != 200:
        raise _http_failure(response.status_code, response.headers, response.body[:200])
    return None


def _send_bot(
    config: SlackConfig, payload: dict[str, Any], timeout: int, thread_ts: str | None = None
) -> str | None:
    from slack_sdk import WebClient  # noqa: PLC0415
    from slack_sdk.errors import SlackApiError  # noqa: PLC0415

    client = WebClient(
        token=config.bot_token,
        base_url=config.api_url,
        timeout=timeout,
        logger=_SDK_LOG,
        retry_handlers=[],
    )
    try:
        response = client.chat_postMessage(
            channel=config.channel, thread_ts=thread_ts, unfurl_links=False, **payload
        )
    except SlackApiError as exc:
        reply = exc.response
        error = reply.get("error", "") if isinstance(reply.data, dict) else ""
        raise _http_failure(reply.status_code, reply.headers, str(error)[:200]) from None
    ts = response.get("ts")
    return str(ts) if ts else None


@dataclass
class Poster:
    """One delivery's clock: every attempt and every wait fits in `budget_s`."""

    config: SlackConfig
    budget_s: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    attempts: int = 0

    def __post_init__(self) -> None:
        self.started = self.clock()

    def left(self) -> float:
        return self.budget_s - (self.clock() - self.started)

    def send(self, payload: dict[str, Any], thread_ts: str | None = None) -> str | None:
        """Post once, retrying transient failures while the budget lasts; the first attempt always
        goes out, so a run that used its whole deadline still tells the team."""

        from slack_sdk.errors import SlackClientError  # noqa: PLC0415

        def attempt() -> str | None:
            self.attempts += 1
            timeout = int(min(MAX_ATTEMPT_TIMEOUT_S, max(MIN_ATTEMPT_TIMEOUT_S, self.left())))
            try:
                if self.config.uses_bot:
                    return _send_bot(self.config, payload, timeout, thread_ts)
                return _send_webhook(self.config, payload, timeout)
            except PostFailed:
                raise
            except (SlackClientError, OSError) as exc:  # refused, reset, timed out, bad URL
                raise PostFailed(f"{type(exc).__name__}: {exc}", transient=True) from None

        backoff = wait_exponential_jitter(multiplier=1.0, max=8.0)

        def wait(state: RetryCallState) -> float:
            assert state.outcome is not None
            failure = state.outcome.exception()
            hinted = failure.retry_after if isinstance(failure, PostFailed) else None
            return hinted if hinted is not None else backoff(state)

        def out_of_time(state: RetryCallState) -> bool:
            # tenacity computes the wait before asking whether to stop.
            return state.upcoming_sleep >= self.left()

        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, PostFailed) and e.transient),
            wait=wait,
            stop=out_of_time,
            sleep=self.sleep,
            reraise=True,
        )
        result: str | None = retrying(attempt)
        return result


def deliver(
    summary: Summary,
    config: SlackConfig,
    rerun: Sequence[str],
    budget_s: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Delivery:
    """Post the summary if the config wants this verdict. Never raises; logs what went wrong."""
    if not config.wants(summary.verdict):
        return Delivery(posted=False, attempts=0)
    poster = Poster(config, min(MAX_BUDGET_S, budget_s), sleep, clock)
    log = jsonlines.logger()
    via = "bot" if config.uses_bot else "webhook"
    try:
        ts = poster.send(slack_message.build(summary, rerun))
    except Exception as exc:  # whatever breaks in Slack must not break the verdict
        error = config.scrub(str(exc))
        log.warning("slack", posted=False, via=via, attempts=poster.attempts, error=error)
        return Delivery(posted=False, attempts=poster.attempts, error=error)
    thread_error = ""
    if config.uses_bot and ts:
        try:
            poster.send(slack_message.thread(summary), thread_ts=ts)
        except Exception as exc:  # the summary is out; a missing thread is only logged
            thread_error = config.scrub(str(exc))
    log.info(
        "slack",
        posted=True,
        via=via,
        attempts=poster.attempts,
        thread_error=thread_error or None,
    )
    return Delivery(posted=True, attempts=poster.attempts, thread_error=thread_error)
