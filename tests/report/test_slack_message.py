from __future__ import annotations

import html
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from smoke.report import slack_message as sm
from smoke.results import errored, failed, passed, skipped
from tests.report.summaries import failing_summary, make_summary
from tests.support.slack_server import limit_problem

RERUN = [
    "kubectl create job smoke-r7f3a9c2e1d0 --from=cronjob/celery-smoke -n smoke",
    "smoke run --suite jobs/eco2.yaml",
]


def texts(payload: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for block in payload["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [e["text"] for e in block.get("elements", [])]
    return found


def assert_within_limits(payload: dict[str, Any]) -> None:
    assert limit_problem(payload) is None
    assert sm.block_chars(payload["blocks"]) + len(payload["text"]) <= sm.MAX_MESSAGE_CHARS
    # The posted JSON stays far from the 40k characters where Slack starts truncating.
    assert len(json.dumps(payload)) < 20_000


def test_failing_run_reads_top_down_verdict_labels_counts_failures_passes_rerun() -> None:
    payload = sm.build(failing_summary(), RERUN)
    blocks = payload["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "emoji": True, "text": ":x: FAILED: eco2"},
    }
    body = texts(payload)
    assert body[1] == "*env* prod  ·  *app* scan  ·  *revision* 1a2b3c"
    assert body[2] == "5 checks: *2 failed*, 3 passed  ·  14.2s"
    failure_blocks = [t for t in body if t.startswith(":x: *")]
    assert failure_blocks == [
        ":x: *queue:scan.reward*  `0.0s`\nno consumer on scan.reward\n"
        "_Hint:_ scan-worker's -Q list lacks scan.reward",
        ":x: *canary:scan.reward*  `0.0s`\nno reply within 30s\n"
        "_Hint:_ a task published to scan.reward is never consumed",
    ]
    passed_line = next(t for t in body if t.startswith(":white_check_mark:"))
    assert passed_line == (
        ":white_check_mark: *3 passed:* `ping:scan-worker`, `consumes:scan-worker`, "
        "`route:scan.vision`"
    )
    assert body.index(failure_blocks[-1]) < body.index(passed_line)
    assert blocks[-1]["type"] == "context"
    assert body[-2:] == [
        "run `r7f3a9c2e1d0`",
        f"rerun: `{RERUN[0]}`  or  `{RERUN[1]}`",
    ]
    assert payload["text"] == (
        ":x: celery-smoke FAILED: eco2 (env=prod, app=scan, revision=1a2b3c): 2 of 5 checks "
        "failed: queue:scan.reward, canary:scan.reward"
    )
    assert_within_limits(payload)


def test_labels_put_env_app_revision_first() -> None:
    summary = make_summary((passed("ping:a"),), {"team": "core", "revision": "9f", "env": "dev"})
    assert sm.labels(summary) == "*env* dev  ·  *revision* 9f  ·  *team* core"


def test_three_hundred_failures_fit_slack_and_say_how_many_were_cut() -> None:
    checks = tuple(
        failed(
            f"canary:queue-{i:03d}",
            "no reply within 30s: published to the queue but nobody consumed it " * 3,
            "check the worker's -Q list and its routes " * 3,
        )
        for i in range(300)
    ) + tuple(passed(f"ping:worker-{i}") for i in range(40))
    payload = sm.build(make_summary(checks), RERUN)
    assert_within_limits(payload)
    body = texts(payload)
    shown = [t for t in body if t.startswith(":x: *canary:")]
    assert 0 < len(shown) <= sm.MAX_FAILURES_SHOWN
    assert f"_… and {300 - len(shown)} more failed checks" in "\n".join(body)
    assert any(t.startswith(":white_check_mark: *40 passed:*") and "more" in t for t in body)
    assert "300 failed" in body[2]
    assert body[-1].startswith("rerun: `kubectl create job")


def test_huge_reasons_are_clipped_not_refused() -> None:
    checks = tuple(
        failed(f"route:task-{i}", "x" * 10_000, "y" * 10_000) for i in range(sm.MAX_FAILURES_SHOWN)
    )
    payload = sm.build(make_summary(checks, {"env": "e" * 5000}), RERUN)
    assert_within_limits(payload)
    first = next(t for t in texts(payload) if t.startswith(":x: *route:task-0*"))
    assert len(first) < sm.MAX_REASON + sm.MAX_HINT + 100
    assert first.count("…") == 2


def test_a_run_that_could_not_run_says_why_and_lists_what_was_skipped() -> None:
    reason = "broker refused our login at amqp://guest:**@127.0.0.1:5672// (AccessRefused 403)"
    checks = (skipped("ping:a", f"{reason} before this check ran"), skipped("queue:q", "same"))
    payload = sm.build(make_summary(checks, error=reason), RERUN)
    body = texts(payload)
    assert payload["blocks"][0]["text"]["text"] == ":warning: COULD NOT RUN: eco2"
    assert f":warning: *Could not run:* {reason}" in body
    assert ":fast_forward: *2 skipped:* `ping:a`, `queue:q`" in body
    assert payload["text"].endswith(f": {reason}")


def test_passing_run_is_short() -> None:
    payload = sm.build(make_summary((passed("ping:a"), passed("queue:q"))), RERUN)
    assert payload["blocks"][0]["text"]["text"] == ":white_check_mark: PASSED: eco2"
    assert [b["type"] for b in payload["blocks"]] == [
        "header",
        "context",
        "section",
        "section",
        "divider",
        "context",
    ]
    assert payload["text"].endswith("eco2 (env=prod, app=scan, revision=1a2b3c): 2 checks")


def test_errored_checks_count_as_failures_with_their_own_mark() -> None:
    summary = make_summary((errored("canary:q", "deadline of 5s ran out"),))
    body = texts(sm.build(summary))
    assert "1 checks: *1 errored*  ·  14.2s" in body
    assert any(t.startswith(":warning: *canary:q*") for t in body)


def test_secrets_and_slack_control_characters_never_reach_the_message() -> None:
    summary = make_summary(
        (failed("canary:q", "result from redis://:hunter2@redis:6379/0 was <None> & empty"),)
    )
    flat = json.dumps(sm.build(summary))
    assert "hunter2" not in flat
    assert "redis://:**@redis:6379/0" in flat
    assert "was &lt;None&gt; &amp; empty" in flat


@given(st.text(alphabet="<>&ab", max_size=60), st.integers(min_value=2, max_value=40))
def test_clip_never_exceeds_the_limit_or_cuts_an_entity(raw: str, limit: int) -> None:
    clipped = sm.clip(sm.escape(raw), limit)
    assert len(clipped) <= limit
    body = clipped.removesuffix("…")
    assert sm.escape(html.unescape(body)) == body


def test_thread_lists_every_check_failures_first_within_limits() -> None:
    checks = tuple(passed(f"ping:w{i}") for i in range(150)) + tuple(
        failed(f"canary:q{i}", "no reply within 30s", "check -Q") for i in range(150)
    )
    reply = sm.thread(make_summary(checks))
    assert_within_limits(reply)
    body = texts(reply)
    assert body[0] == "*Every check of run r7f3a9c2e1d0 (eco2)*"
    assert body[1].startswith(":x: `canary:q0` 0.00s — no reply within 30s\n      _Hint:_ check -Q")
    listed = sum(t.count("\n:") + 1 for t in body[1:-1])
    assert body[-1] == f"_… and {300 - listed} more checks_"


def test_small_thread_has_no_cut_note() -> None:
    reply = sm.thread(failing_summary())
    body = texts(reply)
    assert len(body) == 2
    assert body[1].splitlines()[0].startswith(":x: `queue:scan.reward`")
    assert "more checks" not in body[1]
