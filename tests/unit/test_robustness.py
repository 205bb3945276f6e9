"""Small guarantees the fault tests rely on: the hard deadline, backend errors, timeout reasons."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from celery import Celery
from celery.backends.base import DisabledBackend

from smoke.canary import Flight, collect, timed_out
from smoke.engine import DeadlineExceeded, Target, _hard_deadline, client_app
from smoke.suite import Canary


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:  # bound, never listening: connections are refused at once
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_a_timed_out_canary_names_the_consumers_that_may_hold_it() -> None:
    flight = Flight(Canary(queue="scan.vision", timeout=5), "t", "smoke.probe", 0.0, 5.0,
                    ("celery@scan-worker-a", "celery@scan-worker-b"))  # fmt: skip
    result = timed_out(flight)
    assert result.reason == (
        "no result from smoke.probe within 5s; "
        "consumers of scan.vision: celery@scan-worker-a, celery@scan-worker-b"
    )
    assert result.details["consumers"] == ["celery@scan-worker-a", "celery@scan-worker-b"]


def test_unreachable_redis_backend_is_reported_not_raised(closed_port: int) -> None:
    # redis-py's ConnectionError is not an OSError: it must still end as the canaries' error.
    url = f"redis://:hunter2@127.0.0.1:{closed_port}/0"
    app = Celery("t", broker="memory://", backend=url, set_as_current=False)
    due = time.monotonic() + 5
    flights = [Flight(Canary(queue=q), f"smoke-r-{q}", "smoke.probe", 0.0, due) for q in "ab"]
    try:
        results = collect(app, app.connection_for_write(), flights, time.monotonic, url)
    finally:
        app.close()
    assert [r.status.value for r in results] == ["error", "error"]
    assert results[0].reason == (
        f"result backend redis://:**@127.0.0.1:{closed_port}/0 unreachable: ConnectionError"
    )


def test_hard_deadline_fires_again_if_cleanup_blocks() -> None:
    stuck = threading.Event()
    with pytest.raises(DeadlineExceeded), _hard_deadline(0.05, grace_s=0.05):
        try:
            stuck.wait(5)
        finally:
            stuck.wait(5)  # cleanup that would block on a stalled socket


def test_hard_deadline_restores_an_alarm_set_before_it() -> None:
    previous = signal.signal(signal.SIGALRM, signal.SIG_IGN)
    signal.setitimer(signal.ITIMER_REAL, 100)
    try:
        with _hard_deadline(10):
            pass
        assert 99 < signal.getitimer(signal.ITIMER_REAL)[0] <= 100
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_the_targets_result_backend_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setenv("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/0")
    app = client_app(Target("memory://", f"redis://127.0.0.1:{closed_port}/0"))
    no_backend = client_app(Target("memory://"))
    try:
        assert app.backend.connparams["port"] == closed_port
        assert isinstance(no_backend.backend, DisabledBackend)
    finally:
        app.close()
        no_backend.close()
