"""The demo's parts without processes: settings as pydantic-settings reads them, scenarios as what
they deploy, the demo suite against the incident's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from smoke.demo import SCENARIO_NAMES, builds
from smoke.demo.config import LOCAL_BROKER, ScanWorkerSettingsWithPrefix, WorkerSettings
from smoke.demo.deploy import inherited_env, pod_name
from smoke.demo.run import demo_suite
from smoke.demo.scenarios import SCENARIOS, describe, healthy_fleet
from smoke.demo.site import Site
from smoke.suite import load_suite
from tests.conftest import REPO

FLEET_URL = "amqp://guest:pa55@127.0.0.1:5672/eco2"


def site(url: str = FLEET_URL) -> Site:
    return Site(url, "file:///tmp/results", Path("/tmp/demo"))


def test_settings_read_the_unprefixed_names_kubernetes_injects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CELERY_BROKER_URL", FLEET_URL)
    assert WorkerSettings().celery_broker_url == FLEET_URL
    # The incident's bug: the prefixed class never sees the injected variable.
    assert ScanWorkerSettingsWithPrefix().celery_broker_url == LOCAL_BROKER
    monkeypatch.setenv("SCAN_WORKER_CELERY_BROKER_URL", FLEET_URL)
    assert ScanWorkerSettingsWithPrefix().celery_broker_url == FLEET_URL


def test_workers_inherit_nothing_their_settings_would_read() -> None:
    environ = {
        "PATH": "/bin",
        "CELERY_BROKER_URL": "amqp://x",
        "celery_result_backend": "redis://",
        "SCAN_WORKER_CELERY_BROKER_URL": "amqp://y",
        "DOWNSTREAM_LATENCY_S": "9",
    }
    assert inherited_env(environ) == {"PATH": "/bin"}


def test_pods_are_named_like_kubernetes_names_them() -> None:
    assert re.fullmatch(r"scan-worker-[0-9a-f]{9}-[a-z0-9]{5}", pod_name("scan-worker"))


def test_wrong_credentials_change_only_the_user() -> None:
    assert site().wrong_credentials_url() == "amqp://rabbitmq:pa55@127.0.0.1:5672/eco2"
    as_rabbitmq = site("amqp://rabbitmq:pa55@h:5672/eco2")
    assert as_rabbitmq.wrong_credentials_url() == "amqp://rabbitmq-wrong:pa55@h:5672/eco2"
    embedded = site("filesystem:///tmp/demo/broker")
    assert embedded.wrong_credentials_url() == "filesystem:///tmp/demo/broker-of-the-wrong-secret"


def test_each_scenario_changes_one_deployment_and_nothing_the_checks_read() -> None:
    healthy = healthy_fleet(site())
    changed = {
        name: {d.name for d in scenario.fleet(site()) if d not in healthy}
        | {d.name for d in healthy if d.name not in {x.name for x in scenario.fleet(site())}}
        for name, scenario in SCENARIOS.items()
    }
    assert changed == {
        "healthy": set(),
        "wrong-credentials": {"users-worker"},
        "env-prefix": {"scan-worker"},
        "missing-queue": {"users-worker"},
        "route-mismatch": {"character-worker"},
        "slow-worker": {"scan-worker"},
    }
    for scenario in SCENARIOS.values():
        for deployment in scenario.fleet(site()):
            assert deployment.build in builds.BUILDS


def test_cli_offers_exactly_the_scenarios_there_are() -> None:
    assert tuple(SCENARIOS) == SCENARIO_NAMES


def test_smoke_run_does_not_import_the_demo_fleet_or_slack_sdk() -> None:
    # Start-up time is the deploy pipeline's time: the CLI loads these only when they are used.
    probe = "import smoke.cli, sys; print(sorted(m for m in sys.modules if m.startswith(('smoke.demo.', 'slack_sdk', 'pydantic_settings'))))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_list_explains_every_scenario() -> None:
    text = describe()
    for name in SCENARIOS:
        assert re.search(rf"^{re.escape(name)} ", text, re.MULTILINE)
    assert "env_prefix='SCAN_WORKER_'" in text


def test_demo_suite_has_the_incidents_topology() -> None:
    demo, eco2 = (
        demo_suite(),
        load_suite(
            REPO / "jobs" / "eco2.yaml", {"CELERY_BROKER_URL": "x", "CELERY_RESULT_BACKEND": "y"}
        ),
    )
    assert [(w.name, w.nodes, w.queues, w.tasks) for w in demo.workers] == [
        (w.name, w.nodes, w.queues, w.tasks) for w in eco2.workers
    ]
    assert {c.check_id for c in eco2.canaries} < {c.check_id for c in demo.canaries}
    assert demo.settle <= 5 and demo.deadline <= 60
