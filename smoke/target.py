"""Where a run points: the suite with `--broker`/`--result-backend` applied, and the broker URL it
must have. `CELERY_BROKER_URL` is the only name read from the environment: no prefix, ever."""

from __future__ import annotations

import os
from collections.abc import Mapping

from smoke.engine import Target
from smoke.errors import UsageError
from smoke.suite import Suite, load_suite

BROKER_ENV = "CELERY_BROKER_URL"
BACKEND_ENV = "CELERY_RESULT_BACKEND"


def load_target(
    suite_file: str,
    broker: str | None,
    result_backend: str | None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Suite, Target]:
    env = dict(os.environ if environ is None else environ)
    # A flag stands in for its variable, so a suite written as `broker: ${CELERY_BROKER_URL}` works
    # with --broker alone.
    if broker:
        env[BROKER_ENV] = broker
    if result_backend:
        env[BACKEND_ENV] = result_backend
    suite = load_suite(suite_file, env)
    broker_url = broker or suite.broker or env.get(BROKER_ENV)
    if not broker_url:
        raise UsageError(
            f"no broker: set {BROKER_ENV}, the suite's `broker:`, or pass --broker",
            suite=suite_file,
        )
    backend_url = result_backend or suite.result_backend or env.get(BACKEND_ENV) or None
    return suite, Target(broker_url, backend_url)
