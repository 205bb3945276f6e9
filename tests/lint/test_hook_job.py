from __future__ import annotations

import pytest

from tests.lint.helpers import Lint

RULE = "hook-job"


def job(
    annotations: str = "{argocd.argoproj.io/hook: PostSync}",
    spec: str = "activeDeadlineSeconds: 300",
    command: str = "[smoke, run, --suite, /etc/smoke/suite.yaml]",
) -> str:
    return f"""
apiVersion: batch/v1
kind: Job
metadata:
  name: celery-smoke
  annotations: {annotations}
spec:
  {spec}
  template:
    spec:
      containers:
        - name: smoke
          command: {command}
"""


def test_a_well_wired_hook_job_passes(lint: Lint) -> None:
    assert lint(RULE, job()) == []
    helm = job(annotations='{helm.sh/hook: "post-install,post-upgrade"}')
    assert lint(RULE, helm) == []


@pytest.mark.parametrize(
    ("manifest", "message", "path"),
    [
        (job(annotations="{}"), "not an Argo CD hook", "metadata"),
        (
            job(annotations="{argocd.argoproj.io/hook: PreSync}"),
            "runs as hook 'PreSync'",
            'metadata.annotations["argocd.argoproj.io/hook"]',
        ),
        (job(spec="backoffLimit: 0"), "no activeDeadlineSeconds", "spec"),
        (
            job(spec="activeDeadlineSeconds: 120"),
            "does not exceed the suite deadline (120s)",
            "spec.activeDeadlineSeconds",
        ),
        (
            job(spec="activeDeadlineSeconds: 300\n  ttlSecondsAfterFinished: 0"),
            "ttlSecondsAfterFinished 0 can delete the Job",
            "spec.ttlSecondsAfterFinished",
        ),
    ],
)
def test_each_way_a_hook_job_can_hang_or_skip_the_sync(
    lint: Lint, manifest: str, message: str, path: str
) -> None:
    (finding,) = lint(RULE, manifest)
    assert message in finding.message
    assert finding.path == path


def test_other_jobs_are_not_smoke_jobs(lint: Lint) -> None:
    assert (
        lint(RULE, job(annotations="{}", spec="backoffLimit: 0", command="[python, migrate.py]"))
        == []
    )


def test_the_manual_rerun_cronjob_needs_a_deadline_but_no_hook(lint: Lint) -> None:
    cronjob = """
apiVersion: batch/v1
kind: CronJob
metadata: {name: celery-smoke}
spec:
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: smoke, command: [python, -m, smoke, run]}]
"""
    (finding,) = lint(RULE, cronjob)
    assert finding.path == "spec.jobTemplate.spec"
    assert "set activeDeadlineSeconds: 180" in finding.hint
