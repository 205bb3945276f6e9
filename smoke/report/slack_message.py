"""The Slack message as data: `Summary` -> Block Kit payload, always within Slack's limits.

Failed checks come first, each with its reason and hint; passed and skipped checks shrink to one
line each. A run too large for one message is cut with "and N more", never refused by Slack:
a 300-check failing run must still post.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from smoke.redact import redact
from smoke.results import CheckResult, Status, Summary, Verdict

# Slack's documented limits, and a whole-message budget under the point where Slack truncates.
MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_MESSAGE_CHARS = 12_000
# One check's reason or hint: long enough to read, short enough that one cannot crowd out the rest.
MAX_REASON = 600
MAX_HINT = 400
MAX_FALLBACK = 400
MAX_LIST_LINE = 700
# More failures than this stop being read: the rest are counted, and listed in the thread.
MAX_FAILURES_SHOWN = 20

VERDICT_EMOJI = {
    Verdict.PASS: ":white_check_mark:",
    Verdict.FAIL: ":x:",
    Verdict.ERROR: ":warning:",
    Verdict.INTERRUPTED: ":octagonal_sign:",
}
VERDICT_WORD = {
    Verdict.PASS: "PASSED",
    Verdict.FAIL: "FAILED",
    Verdict.ERROR: "COULD NOT RUN",
    Verdict.INTERRUPTED: "INTERRUPTED",
}
STATUS_EMOJI = {
    Status.PASS: ":white_check_mark:",
    Status.FAIL: ":x:",
    Status.ERROR: ":warning:",
    Status.SKIP: ":fast_forward:",
}
# The labels a reader looks for first; any other context label follows in the suite's order.
LEADING_LABELS = ("env", "app", "revision")

_PARTIAL_ENTITY = re.compile(r"&[a-z]*$")


def escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: limit - 1])
    return cut + "…"


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, MAX_TEXT)}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts]}


def block_chars(node: Any) -> int:
    """Characters a block puts into the message: every `text` string, however nested."""
    if isinstance(node, dict):
        return sum(
            len(v) if k == "text" and isinstance(v, str) else block_chars(v)
            for k, v in node.items()
        )
    if isinstance(node, list):
        return sum(block_chars(item) for item in node)
    return 0


@dataclass
class Budget:
    """What is left of one message: blocks and characters."""

    blocks: int = MAX_BLOCKS
    chars: int = MAX_MESSAGE_CHARS
    taken: list[dict[str, Any]] = field(default_factory=list)

    def fits(self, block: dict[str, Any], reserve_blocks: int = 0, reserve_chars: int = 0) -> bool:
        return (
            len(self.taken) + 1 + reserve_blocks <= self.blocks
            and self.used() + block_chars(block) + reserve_chars <= self.chars
        )

    def used(self) -> int:
        return sum(block_chars(b) for b in self.taken)


def compact_line(emoji: str, label: str, ids: Sequence[str]) -> str:
    """`:white_check_mark: *27 passed:* `ping:a`, `ping:b` … and 12 more`, one short line."""
    head = f"{emoji} *{len(ids)} {label}:* "
    room = MAX_LIST_LINE - len(head) - len(" … and 99999 more")
    shown: list[str] = []
    for check_id in ids:
        item = f"`{escape(check_id)}`"
        room -= len(item) + 2
        if room < 0:
            break
        shown.append(item)
    rest = len(ids) - len(shown)
    return head + ", ".join(shown) + (f" … and {rest} more" if rest else "")


def failure_text(result: CheckResult) -> str:
    text = f"{STATUS_EMOJI[result.status]} *{escape(result.id)}*  `{result.duration_s:.1f}s`"
    if result.attempts > 1:
        text += f" after {result.attempts} attempts"
    text += "\n" + clip(escape(result.reason or "no reason given"), MAX_REASON)
    if result.hint:
        text += "\n_Hint:_ " + clip(escape(result.hint), MAX_HINT)
    return text


def labels(summary: Summary) -> str:
    keys = [k for k in LEADING_LABELS if k in summary.context]
    keys += [k for k in summary.context if k not in LEADING_LABELS]
    return "  ·  ".join(f"*{escape(k)}* {escape(summary.context[k])}" for k in keys)


def counts_line(summary: Summary) -> str:
    counts = summary.counts
    total = len(summary.checks)
    parts = [
        f"*{counts[s.value]} {word}*"
        if s in (Status.FAIL, Status.ERROR)
        else f"{counts[s.value]} {word}"
        for s, word in (
            (Status.FAIL, "failed"),
            (Status.ERROR, "errored"),
            (Status.PASS, "passed"),
            (Status.SKIP, "skipped"),
        )
        if counts[s.value]
    ]
    return f"{total} checks: " + ", ".join(parts or ["none"]) + f"  ·  {summary.duration_s:.1f}s"


def fallback_text(summary: Summary) -> str:
    """The notification and screen-reader text: verdict, suite and which checks failed."""
    verdict = summary.verdict
    text = f"{VERDICT_EMOJI[verdict]} celery-smoke {VERDICT_WORD[verdict]}: {summary.suite}"
    if summary.context:
        text += " (" + ", ".join(f"{k}={v}" for k, v in summary.context.items()) + ")"
    failures = summary.failures()
    if summary.error:
        text += f": {summary.error}"
    elif failures:
        names = ", ".join(f.id for f in failures[:5])
        more = f" and {len(failures) - 5} more" if len(failures) > 5 else ""
        text += f": {len(failures)} of {len(summary.checks)} checks failed: {names}{more}"
    else:
        text += f": {len(summary.checks)} checks"
    return clip(text, MAX_FALLBACK)


def footer(summary: Summary, rerun: Sequence[str]) -> dict[str, Any]:
    texts = [f"run `{escape(summary.run_id)}`"]
    if rerun:
        texts.append("rerun: " + "  or  ".join(f"`{escape(cmd)}`" for cmd in rerun))
    return context(*texts)


def fit(
    budget: Budget,
    items: Iterable[tuple[dict[str, Any], int]],
    total: int,
    what: str,
    reserve_chars: int = 0,
) -> None:
    """Add (block, checks it holds) while they fit, then say how many checks were left out."""
    note_room = len(what) + 40
    shown = 0
    for block, holds in items:
        if not budget.fits(block, reserve_blocks=1, reserve_chars=reserve_chars + note_room):
            break
        budget.taken.append(block)
        shown += holds
    if shown < total:
        budget.taken.append(section(f"_… and {total - shown} more {what}_"))


def build(summary: Summary, rerun: Sequence[str] = ()) -> dict[str, Any]:
    """The main message: header, labels, counts, failures first, compact passes, footer."""
    verdict = summary.verdict
    title = f"{VERDICT_EMOJI[verdict]} {VERDICT_WORD[verdict]}: {summary.suite}"
    header = {
        "type": "header",
        "text": {
            "type": "plain_text",
            "emoji": True,
            "text": clip(title, MAX_HEADER),
        },
    }
    head: list[dict[str, Any]] = [header]
    if summary.context:
        head.append(context(labels(summary)))
    head.append(section(counts_line(summary)))
    if summary.error:
        head.append(section(f":warning: *Could not run:* {escape(summary.error)}"))

    tail: list[dict[str, Any]] = []
    by_status = {s: [c.id for c in summary.checks if c.status == s] for s in Status}
    if by_status[Status.PASS]:
        tail.append(
            section(compact_line(STATUS_EMOJI[Status.PASS], "passed", by_status[Status.PASS]))
        )
    if by_status[Status.SKIP]:
        tail.append(
            section(compact_line(STATUS_EMOJI[Status.SKIP], "skipped", by_status[Status.SKIP]))
        )
    tail += [{"type": "divider"}, footer(summary, rerun)]

    fallback = fallback_text(summary)
    budget = Budget(blocks=MAX_BLOCKS - len(tail), chars=MAX_MESSAGE_CHARS - len(fallback))
    budget.taken.extend(head)
    failures = summary.failures()
    if failures:
        budget.taken.append({"type": "divider"})
    tail_chars = sum(block_chars(b) for b in tail)
    fit(
        budget,
        ((section(failure_text(f)), 1) for f in failures[:MAX_FAILURES_SHOWN]),
        len(failures),
        "failed checks (every check is in the job log and the JSON summary)",
        tail_chars,
    )
    payload: dict[str, Any] = redact({"text": fallback, "blocks": [*budget.taken, *tail]})
    return payload


def detail_line(result: CheckResult) -> str:
    line = f"{STATUS_EMOJI[result.status]} `{escape(result.id)}` {result.duration_s:.2f}s"
    if result.attempts > 1:
        line += f", {result.attempts} attempts"
    if result.reason:
        line += " — " + clip(escape(result.reason), MAX_REASON)
    if result.failed and result.hint:
        line += "\n      _Hint:_ " + clip(escape(result.hint), MAX_HINT)
    return line


def thread(summary: Summary) -> dict[str, Any]:
    """The thread reply under the main message (bot token only): one line per check, failures
    first, packed into sections of up to MAX_TEXT characters."""
    ordered = sorted(summary.checks, key=lambda c: not c.failed)
    chunks: list[tuple[str, int]] = []  # (text, how many checks it holds)
    for result in ordered:
        line = detail_line(result)
        if chunks and len(chunks[-1][0]) + 1 + len(line) <= MAX_TEXT:
            text, n = chunks[-1]
            chunks[-1] = (text + "\n" + line, n + 1)
        else:
            chunks.append((line, 1))
    title = f"Every check of run {summary.run_id} ({summary.suite})"
    budget = Budget(chars=MAX_MESSAGE_CHARS - len(title))
    budget.taken.append(section(f"*{escape(title)}*"))
    fit(budget, ((section(text), n) for text, n in chunks), len(ordered), "checks")
    payload: dict[str, Any] = redact({"text": title, "blocks": budget.taken})
    return payload
