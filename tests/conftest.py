"""Shared fixtures: the machine's real RabbitMQ and Redis, a fresh vhost per test module, real
worker processes, and the CLI as a subprocess."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

RABBIT_HOST = "127.0.0.1:5672"
REDIS_URL = "redis://127.0.0.1:6379/0"
REPO = Path(__file__).resolve().parent.parent


def rabbitmqctl(*args: str) -> str:
    return subprocess.run(
        ["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=60
    ).stdout


@contextlib.contextmanager
def fresh_vhost() -> Iterator[str]:
    name = f"smoke-test-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield name
    finally:
        rabbitmqctl("delete_vhost", name)


@pytest.fixture(scope="module")
def vhost() -> Iterator[str]:
    """Shared by a module's tests that run against the same fleet."""
    with fresh_vhost() as name:
        yield name


@pytest.fixture
def own_vhost() -> Iterator[str]:
    """For a test whose fleet must be the only one its broadcasts can reach."""
    with fresh_vhost() as name:
        yield name


def amqp_url(vhost: str, user: str = "guest", password: str = "guest") -> str:
    return f"amqp://{user}:{password}@{RABBIT_HOST}/{vhost}"


@pytest.fixture(scope="module")
def broker_url(vhost: str) -> str:
    return amqp_url(vhost)


@pytest.fixture(scope="session")
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL)


def cli_env(**extra: str) -> dict[str, str]:
    # Nothing of the caller's broker, Slack or pod identity may leak into a test's run.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CELERY_", "SLACK_")) and k != "POD_NAMESPACE"
    }
    env["PYTHONPATH"] = str(REPO)
    return {**env, **extra}


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smoke", *args],
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
