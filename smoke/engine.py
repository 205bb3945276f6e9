"""One run: connect, observe the fleet until it settles, judge it, send canaries, summarise.

Data flows one way (DESIGN section 2). Every wait is bounded by the suite's deadline, and a hard
timer backs that up so a stalled socket cannot hold the deploy pipeline past it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType

from celery import Celery
from kombu import Connection
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_result,
    stop_after_delay,
    wait_exponential_jitter,
)

from smoke import broker, canary, embedded, kube, verify
from smoke.checks import Observation, fleet_checks
from smoke.deadline import Deadline
from smoke.errors import BrokerError, Interrupted, SmokeError
from smoke.fleet import Expectation, FleetSnapshot, gather
from smoke.redact import redact_text
from smoke.results import CheckResult, Summary, errored, skipped
from smoke.suite import Suite

GATHER_WINDOW_S = 2.0
CLEANUP_GRACE_S = 1.0

OnResult = Callable[[CheckResult], None]


class DeadlineExceeded(SmokeError):
    pass


@dataclass(frozen=True)
class Target:
    broker_url: str
    backend_url: str | None = None


@dataclass
class Run:
    """The mutable record of a run in progress; frozen into a `Summary` at the end."""

    suite: Suite
    run_id: str
    on_result: OnResult
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    results: list[CheckResult] = field(default_factory=list)

    def record(self, result: CheckResult) -> None:
        self.results.append(result)
        self.on_result(result)

    def summary(self, deadline: Deadline, interrupted: bool = False, error: str = "") -> Summary:
        order = {cid: i for i, cid in enumerate(planned(self.suite))}
        done = {r.id for r in self.results}
        why = error or ("interrupted" if interrupted else "not reached")
        rest = [
            skipped(cid, f"{why} before this check ran")
            for cid in planned(self.suite)
            if cid not in done
        ]
        return Summary(
            suite=self.suite.suite,
            run_id=self.run_id,
            started_at=self.started_at,
            duration_s=deadline.elapsed(),
            checks=tuple(sorted(self.results + rest, key=lambda r: order.get(r.id, len(order)))),
            context=dict(self.suite.context),
            interrupted=interrupted,
            error=error,
        )


def planned(suite: Suite) -> list[str]:
    """Every check id the suite produces, in report order."""
    ids = [f"{kind}:{w.name}" for w in suite.workers for kind in ("ping", "consumes")]
    ids += [f"queue:{q}" for q in suite.queues()]
    ids += [f"route:{t}" for w in suite.workers for t in w.tasks]
    return ids + kube.planned(suite) + [c.check_id for c in suite.canaries]


def client_app(target: Target) -> Celery:
    app = Celery("celery-smoke", broker=target.broker_url, set_as_current=False)
    app.conf.update(
        broker_connection_retry=False,
        broker_connection_retry_on_startup=False,
        **embedded.celery_conf(target.broker_url),
    )
    # Celery lets CELERY_RESULT_BACKEND in the environment win over a backend it is given; the
    # target (--result-backend, the suite) must win, or results are read from the wrong place.
    app.backend_cls = target.backend_url or "disabled://"
    return app


def run(
    suite: Suite,
    target: Target,
    run_id: str,
    on_result: OnResult = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> Summary:
    """Run the suite. Returns a Summary for every outcome the team must hear about, including a
    runner that cannot reach its broker (exit 3) and an interruption (exit 4)."""
    deadline = Deadline(suite.deadline)
    record = Run(suite, run_id, on_result)
    try:
        with _hard_deadline(suite.deadline):
            _run(record, target, deadline, sleep)
    except Interrupted:
        return record.summary(deadline, interrupted=True)
    except BrokerError as exc:
        return record.summary(deadline, error=redact_text(str(exc)))
    except DeadlineExceeded:
        for cid in planned(suite):
            if cid not in {r.id for r in record.results}:
                record.record(
                    errored(
                        cid, f"deadline of {suite.deadline:g}s ran out before this check finished"
                    )
                )
    return record.summary(deadline)


def _run(record: Run, target: Target, deadline: Deadline, sleep: Callable[[float], None]) -> None:
    suite = record.suite
    patience = deadline.within(suite.settle)
    connection = broker.connect(target.broker_url, patience, sleep=sleep)
    app = client_app(target)
    try:
        with broker.held(connection, target.broker_url), kube.session(suite) as cluster:
            names = cluster.expected_nodes() if cluster else frozenset()
            observation, attempts = observe(app, connection, suite, deadline, sleep, names)
            fleet_time = deadline.elapsed()
            for result in fleet_checks(suite, observation):
                record.record(result.timed(fleet_time, attempts))
            for result in cluster.checks(observation.snapshot) if cluster else []:
                record.record(result.timed(deadline.elapsed() - fleet_time))
            _run_canaries(record, app, connection, observation, deadline, target)
    finally:
        app.close()


def _run_canaries(
    record: Run,
    app: Celery,
    connection: Connection,
    observation: Observation,
    deadline: Deadline,
    target: Target,
) -> None:
    to_send = []
    for item in record.suite.canaries:
        blocked = canary.preflight(item, observation)
        if blocked is None:
            to_send.append(item)
        else:
            record.record(blocked)
    if not to_send:
        return
    started = deadline.clock()
    for result in verify.send_and_verify(
        app, connection, record.suite, to_send, observation, record.run_id, deadline,
        target.backend_url,
    ):  # fmt: skip
        record.record(result.timed(deadline.clock() - started))


def observe(
    app: Celery,
    connection: Connection,
    suite: Suite,
    deadline: Deadline,
    sleep: Callable[[float], None] = time.sleep,
    expected_names: frozenset[str] = frozenset(),
) -> tuple[Observation, int]:
    """Gather the fleet and the queues, again and again while workers are still settling.
    `expected_names` (Ready pods, when the cluster is watched) must all answer to settle early."""
    expectation = Expectation({w.nodes: w.min_nodes for w in suite.workers}, expected_names)
    seen = FleetSnapshot()
    settle = deadline.within(suite.settle)
    settled_by = deadline.elapsed() + settle

    def attempt() -> Observation:
        nonlocal seen
        # A window never runs past settle: a missing worker costs `settle`, not settle + a window.
        window = max(0.05, min(GATHER_WINDOW_S, settled_by - deadline.elapsed()))
        # Queues first: their consumer counts tell the gather when nobody is left to answer.
        stats = broker.queue_stats(connection, suite.queues())
        counted = {q: s.consumers for q, s in stats.items() if s.consumers is not None}
        seen = seen.merge(gather(app, connection, expectation, window, counted=counted))
        return Observation(seen, stats)

    def last_observation(state: RetryCallState) -> Observation:
        assert state.outcome is not None
        return state.outcome.result()  # type: ignore[no-any-return]

    retrying = Retrying(
        stop=stop_after_delay(settle),
        wait=wait_exponential_jitter(multiplier=0.2, max=5.0),
        retry=retry_if_result(lambda o: not settled(suite, expectation, o)),
        retry_error_callback=last_observation,
        sleep=sleep,
    )
    observation = retrying(attempt)
    return observation, retrying.statistics.get("attempt_number", 1)


def settled(suite: Suite, expectation: Expectation, observation: Observation) -> bool:
    """Nothing is left that waiting could change: every expected node answered, and every queue
    an answering node consumes has a consumer on the broker."""
    snapshot = observation.snapshot
    # Once the declared workers have all answered, a queue none of them consumes will not gain a
    # consumer by waiting: report it now, not after `settle`. A suite that declares no workers
    # leaves the queues' consumers as the only thing to wait for.
    waiting_for = [q for q in suite.queues() if snapshot.consumers_of(q) or not suite.workers]
    return expectation.met_by(snapshot.nodes) and all(
        observation.consumer_count(q) > 0 for q in waiting_for
    )


@contextlib.contextmanager
def _hard_deadline(seconds: float, grace_s: float = CLEANUP_GRACE_S) -> Iterator[None]:
    """SIGALRM at the deadline; only the main thread can take signals, elsewhere this is a no-op.
    An alarm someone else had set (a test runner's timeout) is restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def expire(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if not fired:  # once more after a grace period, should cleanup block on a stalled socket
            fired = True
            signal.setitimer(signal.ITIMER_REAL, grace_s)
        raise DeadlineExceeded("deadline exceeded")

    previous = signal.signal(signal.SIGALRM, expire)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(0.001, outer - (time.monotonic() - started)))
