"""Deploying a demo fleet: one real `celery worker` process per Deployment, named like its pod.

Each pod gets its own working directory (as a container has its own filesystem) and the
environment its Deployment injects, and nothing of the caller's broker settings.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import string
from collections.abc import Iterator
from pathlib import Path

from smoke.demo.config import ScanWorkerSettingsWithPrefix, WorkerSettings
from smoke.demo.processes import WorkerProcess, WorkerSpec, running, wait_until_ready
from smoke.demo.scenarios import Fleet
from smoke.demo.site import Site

BOOT_TIMEOUT_S = 30.0
# Gossip and mingle only slow the start. The event heartbeat stays: its timer is what wakes an idle
# worker's event loop on AMQP to notice SIGTERM; without it a worker takes ~7 s to stop.
WITHOUT = ("gossip", "mingle")
_POD_SUFFIX = string.ascii_lowercase + string.digits


def pod_name(deployment: str) -> str:
    """`scan-worker-7d9f8b6c4-x2kqz`: a ReplicaSet hash and a pod suffix, as Kubernetes names."""
    suffix = "".join(secrets.choice(_POD_SUFFIX) for _ in range(5))
    return f"{deployment}-{secrets.token_hex(5)[:9]}-{suffix}"


def inherited_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment minus every variable the demo workers' settings would read."""
    read = {name.upper() for name in WorkerSettings.model_fields}
    prefix = str(ScanWorkerSettingsWithPrefix.model_config.get("env_prefix", "")).upper()
    return {
        key: value
        for key, value in (os.environ if environ is None else environ).items()
        if key.upper() not in read and not (prefix and key.upper().startswith(prefix))
    }


def specs(fleet: Fleet, pods_dir: Path) -> list[WorkerSpec]:
    result = []
    for deployment in fleet:
        pod = pod_name(deployment.name)
        home = pods_dir / pod
        home.mkdir(parents=True)
        result.append(
            WorkerSpec(
                node=f"celery@{pod}",
                app=f"smoke.demo.builds:{deployment.build}",
                queues=deployment.queues,
                env=deployment.env,
                log=home / "worker.log",
                cwd=home,
                ready_file=home / "ready",
                without=WITHOUT,
            )
        )
    return result


@contextlib.contextmanager
def deploy(fleet: Fleet, site: Site) -> Iterator[list[WorkerProcess]]:
    """Start the fleet and wait until every process is ready (consuming, or exited), as Argo CD
    waits for Healthy pods before PostSync; not until it answers: a deaf worker never would.
    Every process is stopped on the way out, whatever happened."""
    with running(specs(fleet, site.workdir / "pods"), inherited_env()) as processes:
        wait_until_ready(processes, BOOT_TIMEOUT_S)
        yield processes
