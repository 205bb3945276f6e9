"""Canaries verified by the workers' task events, for workers that keep no results.

Before anything is published, an exclusive auto-delete queue is bound to the event exchange
(`task.#`) on a connection of its own, drained by a background thread into a `TaskEventLog`. Only
events of this run's canaries are kept (task ids start with `smoke-<run_id>-`), so two runs at once
never see each other's canaries. A canary's story is then read from the log: `task-received`
(which node took it), and the first of `task-succeeded` / `task-failed` / `task-rejected` /
`task-revoked`.
"""

from __future__ import annotations

import ast
import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from celery import Celery
from celery.backends.base import DisabledBackend
from celery.events.event import get_exchange
from kombu import Connection, Consumer, Message, Queue

from smoke.canary import Flight, is_subset
from smoke.fleet import ask_nodes
from smoke.results import CheckResult, errored, failed, passed

FINAL = ("task-succeeded", "task-failed", "task-rejected", "task-revoked")
DRAIN_TICK_S = 0.1
PING_WINDOW_S = 0.5
NO_EVENTS_HINT = (
    "a node started with --without-heartbeat and --without-gossip and without -E has no event "
    "dispatcher: drop one of those flags, or start it with -E, or let it store results "
    "(verify: result)"
)


@dataclass(frozen=True)
class TaskEvent:
    type: str
    node: str
    at: float  # monotonic time of arrival here
    fields: dict[str, Any]


class TaskEventLog:
    """The events of one run's canaries, filled by the listener thread, read by the collector."""

    def __init__(self, prefix: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.prefix = prefix
        self.clock = clock
        self.lost: str = ""  # why the event stream broke, if it did
        self._events: dict[str, list[TaskEvent]] = {}
        self._changes = 0
        self._changed = threading.Condition()

    def add(self, body: dict[str, Any]) -> None:
        task_id = str(body.get("uuid", ""))
        if not task_id.startswith(self.prefix):
            return
        event = TaskEvent(str(body.get("type")), str(body.get("hostname", "?")), self.clock(), body)
        with self._changed:
            self._events.setdefault(task_id, []).append(event)
            self._changes += 1
            self._changed.notify_all()

    def break_off(self, why: str) -> None:
        with self._changed:
            self.lost = why
            self._changes += 1
            self._changed.notify_all()

    def of(self, task_id: str) -> list[TaskEvent]:
        with self._changed:
            return list(self._events.get(task_id, ()))

    def seen(self) -> list[TaskEvent]:
        with self._changed:
            return [event for events in self._events.values() for event in events]

    def final(self, task_id: str) -> TaskEvent | None:
        return next((e for e in self.of(task_id) if e.type in FINAL), None)

    def changes(self) -> int:
        with self._changed:
            return self._changes

    def wait(self, until: float, changes: int) -> None:
        """Until the log differs from when it showed `changes` (an event arrived or the stream
        broke), or `until` (monotonic) passes. Passing `changes` closes the race between looking
        at the log and waiting on it."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._changes != changes, timeout=max(0.0, until - self.clock())
            )


@dataclass
class Listener:
    log: TaskEventLog
    connection: Connection
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.connection.drain_events(timeout=DRAIN_TICK_S)
            except TimeoutError:
                continue
            except Exception as exc:  # the stream is gone; the collector reports it per canary
                self.log.break_off(f"event stream lost: {type(exc).__name__}")
                return


@contextlib.contextmanager
def listening(app: Celery, connection: Connection, run_id: str) -> Iterator[TaskEventLog]:
    """The queue is declared and bound when this enters: publish only inside it."""
    log = TaskEventLog(f"smoke-{run_id}-")
    stream = connection.clone()
    with stream:
        queue = Queue(
            f"celery-smoke.events.{run_id}.{uuid.uuid4().hex[:6]}",
            exchange=get_exchange(stream, name=app.conf.event_exchange),
            routing_key="task.#",
            exclusive=True,
            auto_delete=True,
            durable=False,
        )

        def on_event(body: Any, message: Message) -> None:
            # Workers with an event loop batch task events into one `task.multi` message.
            for event in body if isinstance(body, list) else [body]:
                if isinstance(event, dict):
                    log.add(event)

        consumer = Consumer(stream, [queue], callbacks=[on_event], accept=["json"], no_ack=True)
        with consumer:
            listener = Listener(log, stream)
            thread = threading.Thread(target=listener.run, name="smoke-events", daemon=True)
            thread.start()
            try:
                yield log
            finally:
                listener.stop.set()
                thread.join(DRAIN_TICK_S * 10)


def collect(
    app: Celery,
    connection: Connection,
    log: TaskEventLog,
    flights: list[Flight],
    clock: Callable[[], float],
) -> list[CheckResult]:
    """Follow each flight's task id through the log until a final event or its own timeout."""
    pending = {f.task_id: f for f in flights}
    results: list[CheckResult] = []
    try:
        while pending:
            changes = log.changes()
            for task_id in [t for t in pending if log.final(t) is not None]:
                flight = pending.pop(task_id)
                results.append(judge(flight, log.of(task_id)))
                _forget(app, task_id)
            late = [f for f in pending.values() if f.due <= clock() or log.lost]
            if late:
                results += _late(app, connection, log, late)
                for flight in late:
                    del pending[flight.task_id]
            if pending:
                log.wait(min(f.due for f in pending.values()), changes)
    finally:
        # Interrupted or out of time: nothing of ours may linger in a queue or a prefetch.
        unfinished = [f.task_id for f in flights if log.final(f.task_id) is None]
        if unfinished:
            with contextlib.suppress(Exception):
                app.control.revoke(unfinished, connection=connection)
    return results


def _forget(app: Celery, task_id: str) -> None:
    """A worker with a result backend stores the canary's result even when the run follows events
    (the probe always stores it, and the worker writes it before task-succeeded goes out): where
    the run shares that backend, nothing of ours stays behind. Cleanup must not change a verdict."""
    if not isinstance(app.backend, DisabledBackend):
        with contextlib.suppress(Exception):
            app.backend.forget(task_id)


def judge(flight: Flight, events: list[TaskEvent]) -> CheckResult:
    check_id, task = flight.canary.check_id, flight.task
    received = next((e for e in events if e.type == "task-received"), None)
    final = next(e for e in events if e.type in FINAL)
    node, fields = final.node, final.fields
    timing = _timing(flight, received, final)
    if final.type == "task-succeeded":
        return _succeeded(flight, final, timing)
    if final.type == "task-failed":
        exception = str(fields.get("exception", "an exception"))
        if exception.startswith("NotRegistered("):
            return failed(
                check_id,
                f"{node} consumed {task} but does not know the task (NotRegistered): "
                "it rejected the message",
                hint="the worker's code does not register this task name: check it against "
                "the suite, or deploy the code that defines it",
                node=node,
                exception="NotRegistered",
                **timing,
            )
        return failed(
            check_id,
            f"{task} raised {exception} on {node}",
            hint="the task ran and failed: see the worker's log for the traceback",
            node=node,
            exception=exception,
            **timing,
        )
    if final.type == "task-rejected":
        return failed(
            check_id,
            f"{node} rejected {task} (requeue={bool(fields.get('requeue'))})",
            node=node,
            **timing,
        )
    why = "it expired before it ran" if fields.get("expired") else "revoked by a control command"
    return failed(check_id, f"{task} was revoked on {node}: {why}", node=node, **timing)


def _succeeded(flight: Flight, final: TaskEvent, timing: dict[str, Any]) -> CheckResult:
    check_id, canary, node = flight.canary.check_id, flight.canary, final.node
    took = f"in {timing['latency_s'] * 1000:.0f} ms"
    if "received_s" in timing:
        took += f" (received after {timing['received_s'] * 1000:.0f} ms)"
    what = "probe" if canary.task is None else flight.task
    if canary.expect is None:
        return passed(check_id, f"{what} executed by {node} {took}", node=node, **timing)
    # The event carries the result's repr (cut at 1 KB), not the result: it must parse back.
    shown = str(final.fields.get("result", ""))
    try:
        value = ast.literal_eval(shown)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return errored(
            check_id,
            f"{what} succeeded on {node}, but `expect` cannot be checked: the task-succeeded "
            f"event shows its result as {shown[:80]!r}, which does not read back as a value",
            hint="drop `expect` for this canary, or verify it by result (verify: result)",
            node=node,
            **timing,
        )
    if not is_subset(canary.expect, value):
        return failed(
            check_id,
            f"{what} returned {value!r} on {node}, which does not match expect {canary.expect!r}",
            node=node,
            result=value,
            **timing,
        )
    return passed(check_id, f"{what} executed by {node} {took}", node=node, **timing)


def _timing(flight: Flight, received: TaskEvent | None, final: TaskEvent) -> dict[str, Any]:
    timing: dict[str, Any] = {"latency_s": round(final.at - flight.sent, 4)}
    if received is not None:
        timing["received_s"] = round(received.at - flight.sent, 4)
    if isinstance(final.fields.get("runtime"), int | float):
        timing["runtime_s"] = round(float(final.fields["runtime"]), 4)
    return timing


def _late(
    app: Celery, connection: Connection, log: TaskEventLog, flights: list[Flight]
) -> list[CheckResult]:
    """Timed out: taken by a node that then went quiet, or by nobody that sends events."""
    takers = {
        f.task_id: e.node for f in flights for e in log.of(f.task_id) if e.type == "task-received"
    }
    answering: set[str] = set()
    if takers:
        pongs = ask_nodes(app, connection, {"ping": {}}, set(takers.values()), PING_WINDOW_S)
        answering = set(pongs["ping"])
    results = []
    for flight in flights:
        check_id, task, limit = flight.canary.check_id, flight.task, flight.canary.timeout
        if log.lost:
            results.append(errored(check_id, f"{log.lost} before {task} finished"))
            continue
        node = takers.get(flight.task_id)
        if node is None:
            results.append(
                failed(
                    check_id,
                    f"no node took {task} within {limit:g}s: no task-received event from any "
                    "node that sends task events",
                    hint="its consumers are too busy, or the one that took it sends no task "
                    "events; " + NO_EVENTS_HINT,
                )
            )
        elif node in answering:
            results.append(
                failed(
                    check_id,
                    f"taken by {node}, still not finished after {limit:g}s: the node answers "
                    "ping, so the task is slow or stuck",
                    hint="see the worker's log; raise the canary's timeout if the task is slow",
                    node=node,
                )
            )
        else:
            results.append(
                failed(
                    check_id,
                    f"taken by {node}, which went silent: no task-succeeded within {limit:g}s "
                    "and no answer to ping",
                    hint="the worker died or hangs with the task (OOM kill, segfault, deadlock): "
                    "see its pod's events and last logs",
                    node=node,
                )
            )
    return results
