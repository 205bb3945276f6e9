"""How each canary is verified: by its result read back, or by the workers' task events.

`auto` (the default) picks result mode only when it can work: the run has a result backend and
every node consuming the canary's queue has one too and does not ignore the task's results (the
nodes say so: `conf` for `result_backend`, `registered ignore_result` for the task's effective
`ignore_result`, which follows `task_ignore_result` unless the task overrides it). Anything else,
including a node that does not answer, means events mode. See docs/events.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from celery import Celery
from kombu import Connection

from smoke import canary, events, eventswitch
from smoke.checks import Observation
from smoke.deadline import Deadline
from smoke.fleet import ask_nodes
from smoke.results import CheckResult, errored
from smoke.suite import Canary, Suite
from smoke.worker import PROBE_TASK

ASK_WINDOW_S = 2.0
BACKEND_KEYS = ("result_backend", "CELERY_RESULT_BACKEND")

Mode = Literal["result", "events"]


@dataclass(frozen=True)
class Choice:
    mode: Mode
    why: str


def choose(
    app: Celery,
    connection: Connection,
    suite: Suite,
    canaries: list[Canary],
    observation: Observation,
    has_backend: bool,
    window_s: float,
) -> dict[str, Choice]:
    choices: dict[str, Choice] = {}
    undecided = []
    for item in canaries:
        asked = suite.verify_of(item)
        if asked != "auto":
            choices[item.check_id] = Choice(asked, f"verify: {asked}")
        elif not has_backend:
            choices[item.check_id] = Choice("events", "the run has no result backend")
        else:
            undecided.append(item)
    nodes = {n.name for c in undecided for n in observation.snapshot.consumers_of(c.queue)}
    replies = ask_nodes(
        app,
        connection,
        {"conf": {}, "registered": {"taskinfoitems": ["ignore_result"]}},
        nodes,
        window_s,
    )
    for item in undecided:
        consumers = [n.name for n in observation.snapshot.consumers_of(item.queue)]
        gaps = [why for node in consumers if (why := _no_results(node, item, replies))]
        if not consumers:
            gaps = [f"no node says it consumes {item.queue}"]
        choices[item.check_id] = (
            Choice("events", "; ".join(gaps))
            if gaps
            else Choice("result", f"every consumer of {item.queue} stores results")
        )
    return choices


def _no_results(node: str, item: Canary, replies: dict[str, dict[str, Any]]) -> str:
    """Why `node` would not store the canary's result, or "" if it would."""
    conf, registered = replies["conf"].get(node), replies["registered"].get(node)
    if not isinstance(conf, dict) or not isinstance(registered, list):
        return f"{node} did not say whether it stores results"
    if not any(conf.get(key) not in (None, "", "disabled") for key in BACKEND_KEYS):
        return f"{node} has no result backend"
    task = item.task or PROBE_TASK
    flags = dict(_ignore_flag(str(entry)) for entry in registered)
    if task not in flags:
        return f"{node} does not register {task}"
    if flags[task]:
        return f"{node} ignores the results of {task}"
    return ""


def _ignore_flag(entry: str) -> tuple[str, bool]:
    # "users.save_character [ignore_result=True]"
    name, _, attributes = entry.partition(" ")
    return name, "ignore_result=True" in attributes


def send_and_verify(
    app: Celery,
    connection: Connection,
    suite: Suite,
    canaries: list[Canary],
    observation: Observation,
    run_id: str,
    deadline: Deadline,
    backend_url: str | None,
) -> list[CheckResult]:
    """Publish the canaries and verify each the way `choose` picked; one deadline bounds all."""
    window = deadline.within(ASK_WINDOW_S)
    choices = choose(app, connection, suite, canaries, observation, bool(backend_url), window)
    by_events = {c.check_id for c in canaries if choices[c.check_id].mode == "events"}
    targets = {
        n.name
        for c in canaries
        if c.check_id in by_events
        for n in observation.snapshot.consumers_of(c.queue)
    }
    results: list[CheckResult] = []
    with _events_on(app, connection, run_id, targets, window, bool(by_events)) as watch:
        to_send = []
        for item in canaries:
            blind = watch.blind(item, observation) if item.check_id in by_events else None
            if blind is None:
                to_send.append(item)
            else:
                results.append(blind)
        consumers = {
            c.queue: tuple(n.name for n in observation.snapshot.consumers_of(c.queue))
            for c in to_send
        }
        flights = canary.publish(app, connection, to_send, run_id, deadline, consumers)
        results += canary.collect(
            app,
            connection,
            [f for f in flights if f.canary.check_id not in by_events],
            deadline.clock,
            backend_url or "",
        )
        if watch.log is not None:
            results += events.collect(
                app,
                connection,
                watch.log,
                [f for f in flights if f.canary.check_id in by_events],
                deadline.clock,
            )
    return [_annotate(r, choices, watch, observation, suite) for r in results]


@dataclass
class _Watch:
    log: events.TaskEventLog | None = None
    switch: eventswitch.Switch = field(default_factory=eventswitch.Switch)
    restored: eventswitch.Restore = field(default_factory=eventswitch.Restore)

    def blind(self, item: Canary, observation: Observation) -> CheckResult | None:
        """Not sent: every consumer of the queue is known to be unable to send task events."""
        consumers = [n.name for n in observation.snapshot.consumers_of(item.queue)]
        if consumers and set(consumers) <= set(self.switch.unavailable):
            return errored(
                item.check_id,
                f"not sent: cannot be verified: the consumers of {item.queue} "
                f"({', '.join(consumers)}) keep no results and send no task events",
                hint=events.NO_EVENTS_HINT,
            )
        return None


@contextlib.contextmanager
def _events_on(
    app: Celery, connection: Connection, run_id: str, nodes: set[str], window: float, needed: bool
) -> Iterator[_Watch]:
    """Listen before publishing; task events on where they were off, and off again afterwards,
    also when the run fails, runs out of time or is interrupted."""
    watch = _Watch()
    if not needed:
        yield watch
        return
    with events.listening(app, connection, run_id) as log:
        watch.log = log
        try:
            watch.switch = eventswitch.enable(app, connection, nodes, window)
            yield watch
        finally:
            watch.restored = eventswitch.restore(app, connection, watch.switch)


def _annotate(
    result: CheckResult,
    choices: dict[str, Choice],
    watch: _Watch,
    observation: Observation,
    suite: Suite,
) -> CheckResult:
    item = next((c for c in suite.canaries if c.check_id == result.id), None)
    choice = choices.get(result.id)
    if item is None or choice is None:
        return result
    details: dict[str, Any] = {**result.details, "verify": choice.mode, "verify_why": choice.why}
    reason = result.reason
    consumers = {n.name for n in observation.snapshot.consumers_of(item.queue)}
    if choice.mode == "events" and consumers & set(watch.switch.turned_on):
        note = watch.restored.describe()
        details["task_events_enabled_on"] = list(watch.switch.turned_on)
        details["task_events_restored_on"] = list(watch.restored.switched_off)
        reason = f"{reason}; {note}" if note else reason
    return replace(result, reason=reason, details=details)
