"""Start and stop real `celery worker` processes; used by `smoke demo` and by the test suite.

Every process started here is stopped by the context manager that started it, also on errors and
Ctrl-C: the demo and the tests must never leave a worker behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import Celery

STOP_GRACE_S = 5.0
READY_FILE_ENV = "SMOKE_READY_FILE"
# Quiet and quick to start. A worker without heartbeat and gossip has no event dispatcher unless it
# also runs with -E, so it can never be made to send task events: drop "heartbeat" for one that can.
QUIET = ("heartbeat", "gossip", "mingle")


@dataclass(frozen=True)
class WorkerSpec:
    node: str  # celery@<name>, like a pod's node name
    app: str  # the -A argument, module:attribute
    queues: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    pool: str = "threads"
    concurrency: int = 4
    log: Path | None = None
    without: tuple[str, ...] = QUIET
    cwd: Path | None = None
    # Touched by the worker once it consumes (its app calls `mark_ready` on worker_ready): the
    # readiness probe a Kubernetes pod would have, without asking the broker.
    ready_file: Path | None = None

    def argv(self) -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", self.app, "worker",
            "-n", self.node, "-Q", ",".join(self.queues),
            "-P", self.pool, "-c", str(self.concurrency),
            *(f"--without-{feature}" for feature in self.without),
            "-l", "warning",
        ]  # fmt: skip


@dataclass
class WorkerProcess:
    spec: WorkerSpec
    process: subprocess.Popen[bytes]
    terminated: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def ready(self) -> bool:
        """Consuming (its ready file exists), or ended."""
        assert self.spec.ready_file is not None, "ready() needs a WorkerSpec with a ready_file"
        return self.spec.ready_file.exists() or not self.alive()

    def terminate(self) -> None:
        """Ask for a warm shutdown without waiting for it (see `running`)."""
        if self.alive() and not self.terminated:
            self.terminated = True
            # The worker's own process group: prefork children and anything it spawned go too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        if not self.alive():
            return
        self.terminate()
        try:
            self.process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start(spec: WorkerSpec, base_env: Mapping[str, str] | None = None) -> WorkerProcess:
    env = {**(os.environ if base_env is None else base_env), **spec.env}
    env.setdefault("PYTHONUNBUFFERED", "1")
    if spec.ready_file is not None:
        env[READY_FILE_ENV] = str(spec.ready_file)
    with contextlib.ExitStack() as stack:
        output = (
            stack.enter_context(spec.log.open("ab")) if spec.log is not None else subprocess.DEVNULL
        )
        process = subprocess.Popen(
            spec.argv(),
            env=env,
            cwd=spec.cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return WorkerProcess(spec, process)


def wait_until_answering(
    app: Celery, nodes: Sequence[str], timeout_s: float, processes: Sequence[WorkerProcess] = ()
) -> set[str]:
    """Ping `nodes` until all answer or `timeout_s` passes; returns the ones that answered."""
    answered: set[str] = set()
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and answered != set(nodes):
        missing = sorted(set(nodes) - answered)
        replies = app.control.ping(destination=missing, timeout=0.5) or []
        answered |= {node for reply in replies for node in reply}
        if any(not p.alive() for p in processes):
            break
    return answered


def wait_until_ready(
    processes: Sequence[WorkerProcess],
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Wait, without any broker traffic, until every process is ready; False if time ran out."""
    end = time.monotonic() + timeout_s
    while not all(p.ready() for p in processes):
        if time.monotonic() >= end:
            return False
        sleep(0.05)
    return True


@contextlib.contextmanager
def running(
    specs: Sequence[WorkerSpec], base_env: Mapping[str, str] | None = None
) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    try:
        for spec in specs:
            started.append(start(spec, base_env))
        yield started
    finally:
        # A worker notices SIGTERM only between polls: signal all first, then wait for each.
        for worker in started:
            worker.terminate()
        for worker in started:
            worker.stop()


def mark_ready(**_: Any) -> None:
    """A `worker_ready` receiver for apps started here: touches the spec's ready file."""
    path = os.environ.get(READY_FILE_ENV)
    if path:
        Path(path).touch()
