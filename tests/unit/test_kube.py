"""Kube checks through the real `kubernetes` client against a Kubernetes API server on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from smoke import engine, kube
from smoke.fleet import FleetSnapshot, Node
from smoke.results import CheckResult, Status
from smoke.suite import Suite
from tests.support.fake_kubeapi import FakeCluster, deployment, pod, serve

PASSWORD = "s3cr3t-Passw0rd"
SUITE = Suite.model_validate(
    {
        "suite": "eco2",
        "workers": [
            {
                "name": "users-worker",
                "queues": ["users.save_character"],
                "kubernetes": {"namespace": "users", "deployment": "users-worker"},
            },
            {"name": "plain-worker", "queues": ["plain"]},
        ],
    }
)
DEAF_LOG = "\n".join(
    [
        "[2026-01-07 10:00:00,000: INFO/MainProcess] Starting users-worker",
        "[2026-01-07 10:00:01,000: ERROR/MainProcess] consumer: Cannot connect to "
        f"amqp://rabbitmq:{PASSWORD}@eco2-rabbitmq.rabbitmq.svc:5672/eco2: (ACCESS_REFUSED - "
        "Login was refused using authentication mechanism AMQPLAIN).",
        "[2026-01-07 10:00:01,001: INFO/MainProcess] Trying again in 2.00 seconds... (1/100)",
    ]
)


def snapshot(*pods: str) -> FleetSnapshot:
    return FleetSnapshot({f"celery@{p}": Node(f"celery@{p}") for p in pods})


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    state = FakeCluster(
        deployments={("users", "users-worker"): deployment("users-worker")},
        pods={
            "users": [pod("users-worker-7d9f-aaaaa"), pod("users-worker-7d9f-bbbbb", restarts=3)]
        },
        logs={("users", "users-worker-7d9f-bbbbb"): DEAF_LOG},
    )
    with serve(state):
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
        monkeypatch.setenv("KUBECONFIG", str(state.kubeconfig(tmp_path)))
        yield state


def run_checks(fleet: FleetSnapshot) -> dict[str, CheckResult]:
    with kube.session(SUITE) as current:
        assert current is not None
        return {r.id: r for r in current.checks(fleet)}


def test_healthy_deployment_and_every_ready_pod_answering_pass(cluster: FakeCluster) -> None:
    with kube.session(SUITE) as current:
        assert current is not None
        expected = current.expected_nodes()
        results = {r.id: r for r in current.checks(snapshot(*sorted(expected_pods(expected))))}
    assert expected == {"celery@users-worker-7d9f-aaaaa", "celery@users-worker-7d9f-bbbbb"}
    assert [r.status for r in results.values()] == [Status.PASS, Status.PASS]
    assert set(results) == {"rollout:users-worker", "pods:users-worker"}
    assert ("/api/v1/namespaces/users/pods", {"labelSelector": ["app=users-worker"]}) in (
        cluster.requests
    )


def expected_pods(names: frozenset[str]) -> list[str]:
    return [n.partition("@")[2] for n in names]


def test_incomplete_rollout_fails_with_what_is_missing(cluster: FakeCluster) -> None:
    cluster.deployments[("users", "users-worker")] = deployment(
        "users-worker", replicas=3, updated=1, available=0, generation=5, observed=4
    )
    result = run_checks(snapshot("users-worker-7d9f-aaaaa", "users-worker-7d9f-bbbbb"))[
        "rollout:users-worker"
    ]
    assert result.status is Status.FAIL
    assert "1 of 3 replica(s) updated" in result.reason
    assert "0 available, at least 1 needed" in result.reason
    assert "generation 5" in result.reason


def test_deaf_pod_is_named_with_restarts_and_masked_log_excerpt(cluster: FakeCluster) -> None:
    results = run_checks(snapshot("users-worker-7d9f-aaaaa"))
    deaf = results["pods:users-worker"]
    assert results["rollout:users-worker"].status is Status.PASS
    assert deaf.status is Status.FAIL
    assert "users-worker-7d9f-bbbbb (3 restart(s)" in deaf.reason
    assert "users-worker-7d9f-aaaaa" not in deaf.reason
    assert "Cannot connect to amqp://rabbitmq:**@eco2-rabbitmq" in deaf.reason
    [entry] = deaf.details["deaf"]
    assert entry["pod"] == "users-worker-7d9f-bbbbb"
    assert entry["restarts"] == 3
    assert len(entry["log_excerpt"]) == 1  # only the line that looks like an error
    assert PASSWORD not in repr(deaf.to_dict())
    log_request = [q for p, q in cluster.requests if p.endswith("/log")]
    assert log_request == [{"container": ["worker"], "tailLines": [str(kube.LOG_TAIL_LINES)]}]


def test_pods_not_ready_or_terminating_are_not_expected_to_answer(cluster: FakeCluster) -> None:
    terminating = pod("users-worker-old-ccccc")
    terminating["metadata"]["deletionTimestamp"] = "2026-01-07T10:00:00Z"
    cluster.pods["users"] = [
        pod("users-worker-7d9f-aaaaa"),
        pod("users-worker-7d9f-ddddd", ready=False),
        terminating,
    ]
    assert (
        run_checks(snapshot("users-worker-7d9f-aaaaa"))["pods:users-worker"].status is Status.PASS
    )


@pytest.mark.parametrize(
    ("where", "verb", "resource"),
    [("deployments", "get", "deployments"), ("pods", "list", "pods")],
)
def test_forbidden_is_an_error_naming_the_missing_verb(
    cluster: FakeCluster, where: str, verb: str, resource: str
) -> None:
    if where == "deployments":
        cluster.deployments[("users", "users-worker")] = 403
    else:
        cluster.pods["users"] = 403
    result = run_checks(snapshot())["pods:users-worker"]
    assert result.status is Status.ERROR
    assert f"RBAC verb {verb!r} on {resource} missing" in result.reason
    assert "namespace users" in result.reason
    assert result.details == {"verb": verb, "resource": resource}
    assert "manifests/base/watch" in result.hint


def test_forbidden_logs_still_name_the_deaf_pod(cluster: FakeCluster) -> None:
    cluster.logs[("users", "users-worker-7d9f-bbbbb")] = 403
    result = run_checks(snapshot("users-worker-7d9f-aaaaa"))["pods:users-worker"]
    assert result.status is Status.FAIL
    assert "users-worker-7d9f-bbbbb" in result.reason
    assert "RBAC verb 'get' on pods/log missing" in result.details["deaf"][0]["log_excerpt"][0]


def test_missing_deployment_fails_rollout_and_skips_pods(cluster: FakeCluster) -> None:
    del cluster.deployments[("users", "users-worker")]
    results = run_checks(snapshot())
    assert results["rollout:users-worker"].status is Status.FAIL
    assert "users/users-worker not found" in results["rollout:users-worker"].reason
    assert results["pods:users-worker"].status is Status.SKIP


def test_server_error_is_an_error_with_its_status(cluster: FakeCluster) -> None:
    cluster.pods["users"] = 500
    result = run_checks(snapshot())["pods:users-worker"]
    assert result.status is Status.ERROR
    assert "answered 500" in result.reason


def test_unreachable_cluster_is_an_error_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = FakeCluster(url=f"http://127.0.0.1:{port}")
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(state.kubeconfig(tmp_path)))
    results = run_checks(snapshot())
    assert {r.status for r in results.values()} == {Status.ERROR}
    assert "unreachable" in results["rollout:users-worker"].reason


def test_missing_kubeconfig_outside_a_pod_is_an_error_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    with kube.session(SUITE) as current:
        assert current is not None
        assert current.expected_nodes() == frozenset()
        results = current.checks(snapshot())
    assert [r.status for r in results] == [Status.ERROR, Status.ERROR]
    assert "no usable Kubernetes config (kubeconfig)" in results[0].reason
    assert "KUBECONFIG" in results[0].reason


def test_no_cluster_and_no_kubeconfig_at_all_skips_the_kube_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run from a laptop or CI against a staging broker: nothing to look at, nothing failed.
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    with kube.session(SUITE) as current:
        assert current is not None
        results = current.checks(snapshot())
    assert [r.status for r in results] == [Status.SKIP, Status.SKIP]
    assert results[0].reason.startswith("not in a pod and no kubeconfig")


def test_kube_ids_are_planned_only_for_watched_workers() -> None:
    ids = engine.planned(SUITE)
    assert "rollout:users-worker" in ids and "pods:users-worker" in ids
    assert "rollout:plain-worker" not in ids and "pods:plain-worker" not in ids


def test_kubernetes_is_not_imported_for_a_suite_without_kubernetes_blocks() -> None:
    code = textwrap.dedent(
        """
        import sys
        from smoke import kube
        from smoke.cli import cli
        from smoke.suite import Suite
        suite = Suite.model_validate({"suite": "s", "workers": [{"name": "w", "queues": ["q"]}]})
        with kube.session(suite) as current:
            assert current is None
        print("kubernetes" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_error_lines_keep_the_last_few_masked_and_short() -> None:
    log = "\n".join(
        [f"ERROR attempt {i}: Cannot connect to redis://:{PASSWORD}@redis:6379/0" for i in range(9)]
        + ["INFO fine", "Traceback (most recent call last): " + "x" * 500]
    )
    lines = kube.error_lines(log)
    assert len(lines) == kube.EXCERPT_LINES
    assert lines[0].startswith("ERROR attempt 5")
    assert all(PASSWORD not in line and len(line) <= kube.EXCERPT_WIDTH for line in lines)
    assert lines[-1].endswith("...")


@pytest.mark.integration
# engine.py's tenacity call, not this change: newer tenacity deprecates `initial`.
@pytest.mark.filterwarnings("ignore:The 'initial' parameter is deprecated:DeprecationWarning")
def test_engine_records_kube_checks_next_to_the_fleet_checks(cluster: FakeCluster) -> None:
    suite = Suite.model_validate(
        {
            "suite": "eco2",
            "deadline": "10s",
            "settle": "0.5s",
            "workers": [SUITE.workers[0].model_dump()],
        }
    )
    # Real Redis, no worker at all: every Ready pod is deaf.
    summary = engine.run(suite, engine.Target("redis://127.0.0.1:6379/13"), "kube-e2e")
    by_id = {c.id: c for c in summary.checks}
    assert [c.id for c in summary.checks][:2] == ["ping:users-worker", "consumes:users-worker"]
    assert by_id["rollout:users-worker"].status is Status.PASS
    assert by_id["pods:users-worker"].status is Status.FAIL
    assert "2 of 2 Ready pod(s) never answered" in by_id["pods:users-worker"].reason
