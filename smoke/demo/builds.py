"""The worker builds a demo can deploy: `celery -A smoke.demo.builds:<build> worker ...`.

Each build is a Celery app made on first access, so a worker process makes, and reads the
settings of, only the one it runs. Two builds carry the incident's bugs in their code.
"""

from __future__ import annotations

from collections.abc import Callable

from celery import Celery

from smoke.demo import workers
from smoke.demo.config import ScanWorkerSettingsWithPrefix, WorkerSettings


def _character_worker_unnamed_task() -> Celery:
    """save_ownership registered without `name=`: Celery names it after its module path, so the
    queue character.save_ownership carries a task name its consumer does not know."""
    settings = WorkerSettings()
    app = workers.register(
        workers.make_app("character-worker", settings), ("character.match",), settings
    )
    app.task(shared=False)(workers.work("character.save_ownership", settings))
    return app


BUILDS: dict[str, Callable[[], Celery]] = {
    "scan_worker": lambda: workers.scan_worker(WorkerSettings()),
    "scan_worker_env_prefix": lambda: workers.scan_worker(ScanWorkerSettingsWithPrefix()),
    "character_worker": lambda: workers.character_worker(WorkerSettings()),
    "character_worker_unnamed_task": _character_worker_unnamed_task,
    "users_worker": lambda: workers.users_worker(WorkerSettings()),
}


def __getattr__(name: str) -> Celery:
    if name not in BUILDS:
        raise AttributeError(f"module {__name__!r} has no build {name!r}")
    app = BUILDS[name]()
    globals()[name] = app
    return app
