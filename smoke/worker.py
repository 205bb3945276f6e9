"""The one line a team adds to its workers: `smoke.worker.install(app)`.

It registers `smoke.probe` and nothing else: no signals, no settings, no imports beyond Celery,
which the worker already has. The probe proves the message was routed to this queue, consumed and
executed, and says by which node.
"""

from __future__ import annotations

import time
from typing import Any

PROBE_TASK = "smoke.probe"


def install(app: Any) -> Any:
    """Register the probe task on `app` (a Celery app) and return it."""

    # shared=False: a second app in the same process (tests, the demo) must not steal the task.
    # ignore_result=False: the probe's answer is its result, even where the app ignores results.
    @app.task(name=PROBE_TASK, bind=True, shared=False, ignore_result=False)  # type: ignore[untyped-decorator]
    def probe(self: Any) -> dict[str, Any]:
        delivery = self.request.delivery_info or {}
        return {
            "node": self.request.hostname,
            "queue": delivery.get("routing_key"),
            "finished_at": time.time(),
        }

    return probe
