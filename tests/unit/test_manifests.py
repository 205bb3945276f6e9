"""The kustomize overlays: they render, validate against the Kubernetes schemas (offline), and keep
the properties the Argo CD hook depends on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from smoke.errors import ExitCode
from smoke.suite import load_suite

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = sorted(p.name for p in (ROOT / "manifests" / "overlays").iterdir())
K8S_VERSION = "1.32.0"  # podFailurePolicy is GA from 1.31
# CRDs have no schema in kubernetes-validate: skipped by name, never silently.
UNVALIDATED = {("external-secrets.io/v1", "ExternalSecret")}
SUITE_ENV = {"CELERY_BROKER_URL": "amqp://x", "CELERY_RESULT_BACKEND": "redis://x"}

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    out = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "manifests" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    )
    return tuple(doc for doc in yaml.safe_load_all(out.stdout) if doc)


def of_kind(overlay: str, kind: str) -> list[dict[str, Any]]:
    return [doc for doc in rendered(overlay) if doc["kind"] == kind]


def job_specs(overlay: str) -> dict[str, dict[str, Any]]:
    """Every Job spec the overlay can run: both hooks and the CronJob's template."""
    specs = {job["metadata"]["name"]: job["spec"] for job in of_kind(overlay, "Job")}
    for cron in of_kind(overlay, "CronJob"):
        specs[f"cronjob/{cron['metadata']['name']}"] = cron["spec"]["jobTemplate"]["spec"]
    return specs


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    for doc in rendered(overlay):
        if (doc["apiVersion"], doc["kind"]) in UNVALIDATED:
            continue
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_hooks_fail_the_sync_and_rerun_from_one_suspended_cronjob(overlay: str) -> None:
    hooks = {
        job["metadata"]["annotations"]["argocd.argoproj.io/hook"]: job
        for job in of_kind(overlay, "Job")
    }
    assert set(hooks) == {"PostSync", "SyncFail"}
    for job in hooks.values():
        annotations = job["metadata"]["annotations"]
        assert annotations["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    [cron] = of_kind(overlay, "CronJob")
    assert cron["metadata"]["name"] == "celery-smoke"
    assert cron["spec"]["suspend"] is True
    specs = job_specs(overlay)
    # One pod template: the hooks run exactly what a manual rerun runs.
    assert all(spec == specs["cronjob/celery-smoke"] for spec in specs.values())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_job_spec_bounds_and_failure_policy_follow_the_exit_codes(overlay: str) -> None:
    suite = load_suite(ROOT / "jobs" / "eco2.yaml", SUITE_ENV)
    for spec in job_specs(overlay).values():
        assert spec["activeDeadlineSeconds"] > suite.deadline
        assert spec["backoffLimit"] >= 1
        assert spec.get("ttlSecondsAfterFinished", 3600) >= 3600  # small TTLs hang Argo CD
        assert spec["template"]["spec"]["restartPolicy"] == "Never"
        by_action = {
            rule["action"]: set(rule["onExitCodes"]["values"])
            for rule in spec["podFailurePolicy"]["rules"]
            if "onExitCodes" in rule
        }
        assert by_action["FailJob"] == {ExitCode.CHECK_FAILED, ExitCode.BAD_INPUT}
        assert by_action["Count"] == {ExitCode.COULD_NOT_RUN}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pod_runs_restricted_with_resources_and_its_suite(overlay: str) -> None:
    for spec in job_specs(overlay).values():
        pod = spec["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] > 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        [container] = pod["containers"]
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
        assert {"requests", "limits"} <= set(container["resources"])
        assert container["args"] == ["run", "--suite", "/etc/smoke/suite.yaml"]
        env = {e["name"]: e.get("valueFrom", {}) for e in container["env"]}
        assert env["CELERY_BROKER_URL"]["secretKeyRef"]["name"] == "celery-smoke"
        assert "SLACK_WEBHOOK_URL" in env
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        [suite_volume] = [v for v in pod["volumes"] if v["name"] == "suite"]
        suite_map = suite_volume["configMap"]["name"]
        [config_map] = [
            c for c in of_kind(overlay, "ConfigMap") if c["metadata"]["name"] == suite_map
        ]
        assert mounts["suite"] == "/etc/smoke"
        assert config_map["data"]["suite.yaml"] == (ROOT / "jobs" / "eco2.yaml").read_text()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rbac_reads_deployments_pods_and_logs_in_every_watched_namespace_only(
    overlay: str,
) -> None:
    suite = load_suite(ROOT / "jobs" / "eco2.yaml", SUITE_ENV)
    watched = {w.kubernetes.namespace for w in suite.workers if w.kubernetes}
    [account] = of_kind(overlay, "ServiceAccount")
    roles = of_kind(overlay, "Role")
    assert {r["metadata"]["namespace"] for r in roles} == watched
    assert not of_kind(overlay, "ClusterRole") and not of_kind(overlay, "ClusterRoleBinding")
    for role in roles:
        granted = {
            (resource, verb)
            for rule in role["rules"]
            for resource in rule["resources"]
            for verb in rule["verbs"]
        }
        assert granted == {
            ("deployments", "get"),
            ("deployments", "list"),
            ("pods", "get"),
            ("pods", "list"),
            ("pods/log", "get"),
        }
    bindings = of_kind(overlay, "RoleBinding")
    assert {b["metadata"]["namespace"] for b in bindings} == watched
    for binding in bindings:
        assert binding["subjects"] == [
            {
                "kind": "ServiceAccount",
                "name": account["metadata"]["name"],
                "namespace": account["metadata"]["namespace"],
            }
        ]
    for job in job_specs(overlay).values():
        assert job["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]


def test_prod_takes_its_broker_secret_from_an_external_secret_on_vhost_eco2() -> None:
    [external] = of_kind("prod", "ExternalSecret")
    assert external["spec"]["target"]["name"] == "celery-smoke"
    broker = external["spec"]["target"]["template"]["data"]["CELERY_BROKER_URL"]
    assert broker.startswith("amqp://admin:") and broker.endswith("/eco2")
    assert not of_kind("prod", "Secret")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_our_own_manifests_pass_smoke_lint(overlay: str) -> None:
    # Dogfood: the hook Job and the broker URLs we ship obey the rules we enforce on others. The
    # worker Deployments live in the team's own repo, so queue coverage cannot be judged here.
    manifests = yaml.safe_dump_all(rendered(overlay))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "smoke",
            "lint",
            "--suite",
            "jobs/eco2.yaml",
            "--disable",
            "queue-coverage",
            "--format",
            "json",
            "-",
        ],
        input=manifests,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **SUITE_ENV},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["findings"] == []
