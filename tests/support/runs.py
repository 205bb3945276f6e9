"""`smoke run` as a subprocess, the way the Job runs it, and reading its JSON summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis
import yaml

from tests.conftest import REDIS_URL, REPO, cli_env, run_cli


def write_suite(path: Path, suite: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(suite))
    return path


def run_env(broker: str, backend: str | None) -> dict[str, str]:
    return cli_env(
        CELERY_BROKER_URL=broker, **({"CELERY_RESULT_BACKEND": backend} if backend else {})
    )


def summary_path(suite_file: Path) -> Path:
    return suite_file.with_suffix(".summary.json")


def smoke_run(
    suite_file: Path, broker: str, *extra: str, backend: str | None = REDIS_URL
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    summary = summary_path(suite_file)
    result = run_cli(
        "run", "--suite", str(suite_file), "--summary", str(summary), *extra,
        env=run_env(broker, backend),
    )  # fmt: skip
    assert summary.exists(), result.stderr
    return result, json.loads(summary.read_text())


def start_run(
    suite_file: Path, broker: str, *extra: str, backend: str | None = REDIS_URL
) -> subprocess.Popen[str]:
    """A run in the background, to signal it or to run another beside it; see `finish_run`."""
    return subprocess.Popen(
        [sys.executable, "-m", "smoke", "run", "--suite", str(suite_file),
         "--summary", str(summary_path(suite_file)), *extra],
        env=run_env(broker, backend), cwd=REPO, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def finish_run(
    process: subprocess.Popen[str], suite_file: Path, timeout: float = 60
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    stdout, stderr = process.communicate(timeout=timeout)
    summary = summary_path(suite_file)
    assert summary.exists(), stdout + stderr
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return done, json.loads(summary.read_text())


def failing(summary: dict[str, Any]) -> set[str]:
    return {c["id"] for c in summary["checks"] if c["status"] in ("fail", "error")}


def check(summary: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in summary["checks"] if c["id"] == check_id)


def leftover_results(client: redis.Redis, run_id: str) -> list[bytes]:
    """Result keys a run left in Redis: its canaries' ids all start with smoke-<run_id>-."""
    return list(client.scan_iter(match=f"celery-task-meta-smoke-{run_id}-*"))
