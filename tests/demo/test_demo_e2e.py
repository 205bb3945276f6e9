"""`smoke demo` end to end: every scenario on the embedded broker and on the real RabbitMQ, each
with its exit code and its exact set of failing checks, and no worker process left behind."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from tests.conftest import REPO, amqp_url, cli_env, run_cli

pytestmark = pytest.mark.e2e

USERS_DEAF = {
    "ping:users-worker",
    "queue:users.save_character",
    "route:users.save_character",
    "canary:users.save_character",
}
SCAN = ("scan.vision", "scan.rule", "scan.answer", "scan.reward")
FAILING = {
    "healthy": set(),
    "wrong-credentials": USERS_DEAF,
    "env-prefix": {"ping:scan-worker", "canary:scan.reward-dry-run"}
    | {f"{kind}:{q}" for q in SCAN for kind in ("queue", "route", "canary")},
    "missing-queue": USERS_DEAF,
    "route-mismatch": {"route:character.save_ownership"},
    "slow-worker": {"canary:scan.reward-dry-run"},
}
EMBEDDED_DIR = re.compile(r"filesystem://(/\S+)/broker")


def rabbitmq_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), 1).close()
    except OSError:
        return False
    return True


def pids(stderr: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"started celery@\S+ \(pid (\d+)\)", stderr)]


def assert_gone(started: list[int]) -> None:
    assert started, "the demo named no worker processes"
    for pid in started:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def failing(summary: dict[str, Any]) -> set[str]:
    return {c["id"] for c in summary["checks"] if c["status"] in ("fail", "error")}


def why(result: subprocess.CompletedProcess[str], summary: dict[str, Any]) -> str:
    reasons = [f"{c['id']}: {c['reason']}" for c in summary["checks"] if c["status"] != "pass"]
    return "\n".join([result.stderr, *reasons])


def demo(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    summary = tmp_path / "summary.json"
    result = run_cli("demo", "--summary", str(summary), *args, timeout=90)
    assert summary.exists(), result.stderr
    return result, json.loads(summary.read_text())


@pytest.mark.parametrize("scenario", FAILING)
def test_scenario_on_the_embedded_broker(scenario: str, tmp_path: Path) -> None:
    started = time.monotonic()
    result, summary = demo(tmp_path, "--scenario", scenario)
    assert result.returncode == (1 if FAILING[scenario] else 0), why(result, summary)
    assert failing(summary) == FAILING[scenario]
    assert len(summary["checks"]) == 28
    assert_gone(pids(result.stderr))
    match = EMBEDDED_DIR.search(result.stderr)
    assert match and not Path(match.group(1)).exists(), "the demo's temporary folder remains"
    assert time.monotonic() - started < 60
    # stdout is what `smoke run` prints: one JSON event per check, then the verdict.
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {e["check"] for e in events if "check" in e} == {c["id"] for c in summary["checks"]}


@pytest.mark.skipif(not rabbitmq_up(), reason="RabbitMQ is not up on 127.0.0.1:5672")
@pytest.mark.parametrize("scenario", FAILING)
def test_scenario_on_rabbitmq(scenario: str, vhost: str, tmp_path: Path) -> None:
    url = amqp_url(vhost)
    result, summary = demo(tmp_path, "--scenario", scenario, "--broker", url)
    assert result.returncode == (1 if FAILING[scenario] else 0), why(result, summary)
    assert failing(summary) == FAILING[scenario]
    assert_gone(pids(result.stderr))
    assert "guest:guest" not in result.stdout + result.stderr
    if scenario in ("wrong-credentials", "missing-queue"):
        queue = next(c for c in summary["checks"] if c["id"] == "queue:users.save_character")
        assert "does not exist on the broker" in queue["reason"]
    # Cleaned up: the next scenario starts from a vhost without the suite's queues.
    with Connection(url) as connection:
        channel = connection.channel()
        for name in (*SCAN, "users.save_character", "character.match"):
            with pytest.raises(Exception, match="NOT_FOUND"):
                channel.queue_declare(name, passive=True)
            channel = connection.channel()


@pytest.mark.skipif(not rabbitmq_up(), reason="RabbitMQ is not up on 127.0.0.1:5672")
def test_a_vhost_holding_the_suites_queues_is_refused_and_left_alone(own_vhost: str) -> None:
    url = amqp_url(own_vhost)
    with Connection(url) as connection:
        connection.channel().queue_declare("scan.vision", durable=True)
        result = run_cli("demo", "--broker", url)
        assert result.returncode == 2
        assert "already has queue(s) scan.vision" in result.stderr
        assert connection.channel().queue_declare("scan.vision", passive=True).queue


def test_an_unsupported_broker_is_bad_usage() -> None:
    result = run_cli("demo", "--broker", "redis://127.0.0.1:6379/0")
    assert result.returncode == 2
    assert result.stderr.startswith("smoke: error: the demo runs on RabbitMQ")


def start_demo(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "smoke", "demo", *args],
        env=cli_env(),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until(process: subprocess.Popen[str], pattern: str) -> str:
    assert process.stderr is not None
    seen = ""
    while not re.search(pattern, seen):
        line = process.stderr.readline()
        assert line, f"the demo ended before printing {pattern!r}: {seen}"
        seen += line
    return seen


def test_keep_running_serves_smoke_run_until_ctrl_c(tmp_path: Path) -> None:
    with start_demo("--keep-running", "--format", "json") as process:
        try:
            told = read_until(process, r"Ctrl-C stops it")
            command = re.search(r"^\s+smoke run (.+)$", told, re.MULTILINE)
            assert command, told
            summary = tmp_path / "run.json"
            result = run_cli("run", *command.group(1).split(), "--summary", str(summary))
            assert result.returncode == 0, result.stdout + result.stderr
            assert json.loads(summary.read_text())["verdict"] == "pass"
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0
        finally:
            process.kill()
    assert_gone(pids(told))


def test_sigterm_during_the_run_stops_every_worker(tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    # missing-queue waits out the settle: SIGTERM lands while the run is under way.
    with start_demo("--scenario", "missing-queue", "--summary", str(summary)) as process:
        try:
            told = read_until(process, r"(started .*\n.*){2}")
            time.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 4
        finally:
            process.kill()
    assert json.loads(summary.read_text())["verdict"] == "interrupted"
    assert_gone(pids(told))
