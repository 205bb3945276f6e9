"""The demo's scenarios: the healthy fleet, and each failure of the incident made for real.

A scenario only changes what gets deployed: which build of a worker runs, with which environment,
or whether it runs at all. Nothing here is read by the checks; they find the failure themselves.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from smoke.demo.site import Site
from smoke.demo.workers import CHARACTER_TASKS, SCAN_TASKS, USERS_TASKS

# Longer than the demo suite's dry-run canary timeout (2 s), short enough to stop quickly.
SLOW_DOWNSTREAM_S = 3.0


@dataclass(frozen=True)
class Deployment:
    """One worker Deployment: its pods are named `celery@<name>-<suffix>`."""

    name: str
    build: str  # an attribute of smoke.demo.builds
    queues: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


Fleet = tuple[Deployment, ...]


def healthy_fleet(site: Site) -> Fleet:
    env = site.worker_env()
    return (
        Deployment("scan-worker", "scan_worker", SCAN_TASKS, env),
        Deployment("character-worker", "character_worker", CHARACTER_TASKS, env),
        Deployment("users-worker", "users_worker", USERS_TASKS, env),
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    incident: str  # the failure it reproduces
    how: str  # what is deployed differently
    change: Callable[[Fleet, Site], Fleet]

    def fleet(self, site: Site) -> Fleet:
        return self.change(healthy_fleet(site), site)


def _change(fleet: Fleet, name: str, change: Callable[[Deployment], Deployment]) -> Fleet:
    return tuple(change(d) if d.name == name else d for d in fleet)


def _wrong_credentials(fleet: Fleet, site: Site) -> Fleet:
    bad_secret = {"CELERY_BROKER_URL": site.wrong_credentials_url()}
    return _change(fleet, "users-worker", lambda d: replace(d, env={**d.env, **bad_secret}))


def _slow(fleet: Fleet, site: Site) -> Fleet:
    latency = {"DOWNSTREAM_LATENCY_S": str(SLOW_DOWNSTREAM_S)}
    return _change(fleet, "scan-worker", lambda d: replace(d, env={**d.env, **latency}))


def _build(name: str, build: str) -> Callable[[Fleet, Site], Fleet]:
    return lambda fleet, site: _change(fleet, name, lambda d: replace(d, build=build))


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "healthy",
            "none: the fleet after the fixes",
            "all three workers, right settings, right builds",
            lambda fleet, site: fleet,
        ),
        Scenario(
            "wrong-credentials",
            "3.1 RabbitMQ username mismatch: users-worker cannot log in, "
            "users.save_character is never declared and has no consumer",
            "users-worker's CELERY_BROKER_URL has user 'rabbitmq' instead of the right one: "
            "RabbitMQ refuses the login and the worker exits (on Kubernetes it would be "
            "restarted and refused again). An embedded broker has no login: there the URL names "
            "another broker folder, and the worker runs but hears nothing",
            _wrong_credentials,
        ),
        Scenario(
            "env-prefix",
            "3.2 env prefix mismatch: scan-worker ignores the injected CELERY_BROKER_URL",
            "scan-worker runs the build whose pydantic-settings class has "
            "env_prefix='SCAN_WORKER_': it reads SCAN_WORKER_CELERY_BROKER_URL, finds nothing and "
            "falls back to its default, an embedded broker in its working directory",
            _build("scan-worker", "scan_worker_env_prefix"),
        ),
        Scenario(
            "missing-queue",
            "2.2 users.save_character missing: nothing ever declares or consumes it",
            "users-worker is never started",
            lambda fleet, site: tuple(d for d in fleet if d.name != "users-worker"),
        ),
        Scenario(
            "route-mismatch",
            "2 routing policy (one queue per task, same name) broken",
            "character-worker runs a build that registers save_ownership without name=, so Celery "
            "names it smoke.demo.workers.save_ownership while it consumes character.save_ownership",
            _build("character-worker", "character_worker_unnamed_task"),
        ),
        Scenario(
            "slow-worker",
            "a worker that answers pings but whose real work is too slow",
            f"scan-worker's downstream (model API) takes {SLOW_DOWNSTREAM_S:g}s, so the "
            "scan.reward dry-run canary exceeds its 2s timeout",
            _slow,
        ),
    )
}


def describe(width: int = 100) -> str:
    """`smoke demo --list`: what each scenario reproduces and how."""
    indent = " " * (max(len(name) for name in SCENARIOS) + 2)
    blocks = []
    for scenario in SCENARIOS.values():
        head = f"{scenario.name:<{len(indent)}}"
        blocks.append(
            textwrap.fill(scenario.incident, width, initial_indent=head, subsequent_indent=indent)
            + "\n"
            + textwrap.fill(
                f"how: {scenario.how}", width, initial_indent=indent, subsequent_indent=indent
            )
        )
    return "\n\n".join(blocks)
