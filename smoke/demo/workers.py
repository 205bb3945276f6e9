"""The demo fleet's Celery apps: scan-worker, character-worker and users-worker of the incident.

This is also the reference for wiring celery-smoke into a worker: build the app as usual and add
`smoke.worker.install(app)`, which registers the `smoke.probe` canary task and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from celery import Celery
from celery.signals import worker_ready

from smoke import embedded, worker
from smoke.demo.config import WorkerSettings
from smoke.demo.processes import mark_ready

SCAN_TASKS = ("scan.vision", "scan.rule", "scan.answer", "scan.reward")
CHARACTER_TASKS = ("character.match", "character.save_ownership")
USERS_TASKS = ("users.save_character",)

Task = Callable[..., dict[str, Any]]

# The demo's readiness probe (Kubernetes pods get one too): `smoke demo` starts its run once every
# worker consumes, like a PostSync hook once every pod is Ready.
worker_ready.connect(mark_ready, weak=False)


def make_app(name: str, settings: WorkerSettings) -> Celery:
    app = Celery(name, broker=settings.celery_broker_url, backend=settings.celery_result_backend)
    app.conf.update(
        broker_connection_retry_on_startup=True,
        **embedded.celery_conf(settings.celery_broker_url),
        worker_hijack_root_logger=False,
        worker_prefetch_multiplier=1,
    )
    if embedded.is_embedded(settings.celery_broker_url):
        embedded.create(settings.celery_broker_url)
    worker.install(app)  # the one line celery-smoke asks of a team
    return app


def work(name: str, settings: WorkerSettings) -> Task:
    """A task body standing in for the real one: waits on its downstream, answers ok."""

    def run(**kwargs: Any) -> dict[str, Any]:
        time.sleep(settings.downstream_latency_s)
        return {"status": "ok", "task": name, **kwargs}

    run.__name__ = run.__qualname__ = name.rpartition(".")[2]
    return run


def register(app: Celery, names: tuple[str, ...], settings: WorkerSettings) -> Celery:
    # One queue per task, named like the task (the incident's routing policy).
    for name in names:
        app.task(name=name, shared=False)(work(name, settings))
    return app


def scan_worker(settings: WorkerSettings) -> Celery:
    return register(make_app("scan-worker", settings), SCAN_TASKS, settings)


def character_worker(settings: WorkerSettings) -> Celery:
    return register(make_app("character-worker", settings), CHARACTER_TASKS, settings)


def users_worker(settings: WorkerSettings) -> Celery:
    return register(make_app("users-worker", settings), USERS_TASKS, settings)
