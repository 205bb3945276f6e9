"""The demo workers' settings, read the way the incident's apps read theirs: pydantic-settings.

Kubernetes injects `CELERY_BROKER_URL` (and the result backend) into every worker with no prefix.
A settings class that adds a prefix silently reads another variable and keeps its default
(incident section 3.2): `ScanWorkerSettingsWithPrefix` is that class, as it was before the fix.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

# A developer's default: the embedded broker in the working directory. In a deployed worker it is
# the wrong broker, so a worker that falls back to it runs and hears nothing.
LOCAL_BROKER = "filesystem://"


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    celery_broker_url: str = LOCAL_BROKER
    celery_result_backend: str | None = None
    # Stands for the model API and databases the real tasks call; 0 in a healthy fleet.
    downstream_latency_s: float = 0.0


class ScanWorkerSettingsWithPrefix(WorkerSettings):
    """scan_worker's settings before the fix: reads SCAN_WORKER_CELERY_BROKER_URL, never set."""

    model_config = SettingsConfigDict(env_prefix="SCAN_WORKER_", extra="ignore")
