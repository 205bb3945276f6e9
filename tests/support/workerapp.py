"""A Celery app for test workers, configured from the environment so one module serves every test.

SMOKE_TEST_BROKER / SMOKE_TEST_BACKEND: where it connects. SMOKE_TEST_TASKS: comma-separated task
names to register. Every task returns {"status": "ok", ...kwargs}; kwargs `sleep` and `fail` make it
slow or raise, for the canary tests. SMOKE_TEST_PROBE=0 leaves the probe out.
SMOKE_TEST_IGNORE_RESULT=1 sets task_ignore_result; SMOKE_TEST_TASK_EVENTS=1 sets
worker_send_task_events (as -E does).
"""

from __future__ import annotations

import os
import time
from typing import Any

from celery import Celery

from smoke.worker import install

app = Celery(
    "smoke-test-worker",
    broker=os.environ["SMOKE_TEST_BROKER"],
    backend=os.environ.get("SMOKE_TEST_BACKEND") or None,
)
app.conf.update(
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=os.environ.get("SMOKE_TEST_IGNORE_RESULT") == "1",
    worker_send_task_events=os.environ.get("SMOKE_TEST_TASK_EVENTS") == "1",
)


class CanaryFailure(RuntimeError):
    pass


def _make_task(name: str) -> None:
    @app.task(name=name)
    def task(**kwargs: Any) -> dict[str, Any]:
        if kwargs.get("sleep"):
            time.sleep(float(kwargs["sleep"]))
        if kwargs.get("fail"):
            raise CanaryFailure(str(kwargs["fail"]))
        return {"status": "ok", **kwargs}


for _name in filter(None, os.environ.get("SMOKE_TEST_TASKS", "").split(",")):
    _make_task(_name)

if os.environ.get("SMOKE_TEST_PROBE", "1") == "1":
    install(app)
