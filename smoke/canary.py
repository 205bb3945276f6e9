"""Canaries: real messages through the real queues, their results read back and forgotten.

All canaries are published at once on the default exchange (routing key = queue name, nothing
declared, so a missing queue is never created by us) with `expires` (Celery header and AMQP TTL),
then their results are polled together until each one's timeout.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from celery import Celery, states
from celery.backends.base import BaseKeyValueStoreBackend, DisabledBackend
from celery.exceptions import TimeoutError as ResultTimeout
from kombu import Connection, Producer
from kombu.exceptions import DecodeError

from smoke.checks import Observation
from smoke.deadline import Deadline
from smoke.redact import mask_url
from smoke.results import CheckResult, errored, failed, passed
from smoke.suite import Canary
from smoke.worker import PROBE_TASK

POLL_INTERVAL_S = 0.02
INSTALL_HINT = "add `smoke.worker.install(app)` where the worker creates its Celery app"


@dataclass(frozen=True)
class Flight:
    canary: Canary
    task_id: str
    task: str
    sent: float  # monotonic
    due: float  # monotonic time after which the canary has timed out
    consumers: tuple[str, ...] = ()  # the queue's consumers when it was sent: who may hold it


def preflight(canary: Canary, observation: Observation) -> CheckResult | None:
    """Fail at once, without sending, what cannot possibly come back."""
    queue, task = canary.queue, canary.task or PROBE_TASK
    if observation.queue_missing(queue):
        return failed(
            canary.check_id,
            f"not sent: queue {queue} does not exist on the broker",
            hint="its consumer never connected, so the queue was never declared",
        )
    if observation.consumer_count(queue) == 0:
        return failed(
            canary.check_id,
            f"not sent: queue {queue} has no consumer",
            hint="start a worker with this queue in -Q, or fix the one that cannot connect",
        )
    consumers = observation.snapshot.consumers_of(queue)
    if consumers and not any(task in node.registered for node in consumers):
        names = ", ".join(node.name for node in consumers)
        if canary.task is None:
            return failed(
                canary.check_id,
                f"not sent: {PROBE_TASK} is not registered on the consumers of {queue} ({names})",
                hint=INSTALL_HINT,
            )
        return failed(
            canary.check_id,
            f"not sent: {task} is not registered on the consumers of {queue} ({names}); "
            "they would reject it as NotRegistered",
            hint="check the task's registered name against the suite",
        )
    return None


def publish(
    app: Celery,
    connection: Connection,
    canaries: list[Canary],
    run_id: str,
    deadline: Deadline,
    consumers: Mapping[str, tuple[str, ...]] | None = None,
) -> list[Flight]:
    producer = Producer(connection.default_channel, auto_declare=False)
    flights = []
    for canary in canaries:
        timeout = deadline.within(canary.timeout)
        task = canary.task or PROBE_TASK
        task_id = f"smoke-{run_id}-{uuid.uuid4().hex[:12]}"
        headers, properties, body, _ = app.amqp.as_task_v2(
            task_id, task, canary.args, canary.kwargs, expires=timeout
        )
        headers["smoke_run_id"] = run_id
        producer.publish(
            body,
            exchange="",
            routing_key=canary.queue,
            headers=headers,
            serializer="json",
            expiration=timeout,
            declare=[],
            retry=False,
            **properties,
        )
        now = deadline.clock()
        held_by = (consumers or {}).get(canary.queue, ())
        flights.append(Flight(canary, task_id, task, now, now + timeout, held_by))
    if flights:
        # AMQP publishes are fire-and-forget. One synchronous round trip on the same channel proves
        # the broker took every frame before it: a connection cut now raises here (the runner lost
        # its broker, exit 3), not later as canaries that merely "timed out".
        producer.channel.basic_qos(0, 0, False)  # size, count, global: as they were
    return flights


def collect(
    app: Celery,
    connection: Connection,
    flights: list[Flight],
    clock: Callable[[], float],
    backend_url: str,
) -> list[CheckResult]:
    """Poll every in-flight canary's result until it is ready or its own timeout passes."""
    backend = app.backend
    if isinstance(backend, DisabledBackend):
        return [
            errored(
                f.canary.check_id,
                "no result backend configured: the canary's result cannot come back",
                hint="set the suite's result_backend (or --result-backend) to the workers' backend",
            )
            for f in flights
        ]
    pending = {f.task_id: f for f in flights}
    results: list[CheckResult] = []
    try:
        while pending:
            wait = max(0.0, min(f.due for f in pending.values()) - clock())
            for task_id, meta in _ready(backend, set(pending), wait):
                flight = pending.pop(task_id)
                results.append(judge(flight, meta, clock() - flight.sent))
                backend.forget(task_id)
            late = [f for f in pending.values() if f.due <= clock()]
            for flight in late:
                del pending[flight.task_id]
                results.append(timed_out(flight))
            if late:
                app.control.revoke([f.task_id for f in late], connection=connection)
    except _backend_errors(backend) as exc:
        reason = f"result backend {mask_url(backend_url)} unreachable: {type(exc).__name__}"
        results += [errored(f.canary.check_id, reason) for f in pending.values()]
        pending.clear()
    finally:
        # Interrupted or out of time: nothing of ours may linger in a queue or a worker's prefetch.
        if pending:
            with contextlib.suppress(Exception):
                app.control.revoke(list(pending), connection=connection)
    return results


def _backend_errors(backend: Any) -> tuple[type[BaseException], ...]:
    """What a lost result backend raises: OSError, and the client library's own connection errors
    (redis-py's are not OSErrors). Celery also lists KeyError there for its retries: not ours."""
    declared = getattr(backend, "connection_errors", ())
    return (OSError, *(e for e in declared if not issubclass(e, LookupError)))


def _ready(backend: Any, task_ids: set[str], wait_s: float) -> Iterator[tuple[str, dict[str, Any]]]:
    """Results that become ready within `wait_s`, batched where the backend allows it."""
    if isinstance(backend, BaseKeyValueStoreBackend):
        try:
            yield from backend.get_many(
                task_ids, timeout=max(wait_s, 0.001), interval=POLL_INTERVAL_S
            )
        except ResultTimeout:
            return
        except DecodeError:
            # A result caught mid-write (the file:// backend writes in place) reads as empty;
            # the next poll reads it whole.
            time.sleep(POLL_INTERVAL_S)
        return
    end = time.monotonic() + wait_s
    while task_ids:
        for task_id in list(task_ids):
            meta = backend.get_task_meta(task_id)
            if meta["status"] in states.READY_STATES:
                task_ids.discard(task_id)
                yield task_id, meta
        if time.monotonic() >= end:
            return
        time.sleep(POLL_INTERVAL_S)


def judge(flight: Flight, meta: dict[str, Any], elapsed_s: float) -> CheckResult:
    check_id, status, value = flight.canary.check_id, meta.get("status"), meta.get("result")
    took = f"{elapsed_s * 1000:.0f} ms"
    if status == states.SUCCESS:
        return _judge_success(flight, value, took, elapsed_s)
    if status == states.FAILURE:
        kind = type(value).__name__ if isinstance(value, BaseException) else "error"
        return failed(
            check_id,
            f"{flight.task} raised {kind}: {value}",
            hint="the task ran and failed: see the worker's log for the traceback",
            exception=kind,
        )
    if status == states.REVOKED:
        return failed(
            check_id,
            f"{flight.task} was revoked: it expired before a worker took it "
            f"(expires {flight.canary.timeout:g}s)",
            hint="the queue's consumers are too busy or too slow to take new work",
        )
    return failed(check_id, f"{flight.task} ended in state {status}")


def _judge_success(flight: Flight, value: Any, took: str, elapsed_s: float) -> CheckResult:
    check_id, canary = flight.canary.check_id, flight.canary
    if canary.task is None:
        node = value.get("node") if isinstance(value, dict) else None
        return passed(
            check_id, f"probe answered by {node} in {took}", node=node, latency_s=elapsed_s
        )
    if canary.expect is not None and not is_subset(canary.expect, value):
        return failed(
            check_id,
            f"{flight.task} returned {value!r}, which does not match expect {canary.expect!r}",
            result=value,
        )
    return passed(check_id, f"{flight.task} succeeded in {took}", latency_s=elapsed_s)


def timed_out(flight: Flight) -> CheckResult:
    # In result mode nobody tells us which node took the message, but one of these did (or none).
    holders = f"; consumers of {flight.canary.queue}: {', '.join(flight.consumers)}"
    return failed(
        flight.canary.check_id,
        f"no result from {flight.task} within {flight.canary.timeout:g}s"
        + (holders if flight.consumers else ""),
        hint="the worker is busy, slow, or writes results to another backend than the suite's "
        "result_backend",
        consumers=list(flight.consumers),
    )


def is_subset(expected: Any, actual: Any) -> bool:
    """`expect` matches when every key it names is in the result with a matching value."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and is_subset(value, actual[key]) for key, value in expected.items()
        )
    return bool(expected == actual)
