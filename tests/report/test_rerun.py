from __future__ import annotations

from smoke.report import rerun
from smoke.results import passed
from tests.report.summaries import make_summary

SUMMARY = make_summary((passed("ping:a"),))


def test_kubernetes_command_first_when_the_pod_knows_its_namespace() -> None:
    assert rerun.commands(SUMMARY, "jobs/eco2.yaml", {"POD_NAMESPACE": "smoke"}) == [
        "kubectl create job smoke-r7f3a9c2e1d0 --from=cronjob/celery-smoke -n smoke",
        "smoke run --suite jobs/eco2.yaml",
    ]


def test_namespace_label_stands_in_for_the_environment() -> None:
    summary = make_summary((passed("ping:a"),), {"namespace": "ops"})
    assert rerun.commands(summary, None, {}) == [
        "kubectl create job smoke-r7f3a9c2e1d0 --from=cronjob/celery-smoke -n ops"
    ]


def test_off_kubernetes_only_the_local_form_quoted_for_the_shell() -> None:
    assert rerun.commands(SUMMARY, "my suites/eco2.yaml", {}) == [
        "smoke run --suite 'my suites/eco2.yaml'"
    ]


def test_job_names_are_valid_kubernetes_names() -> None:
    assert rerun.job_name("Deploy_42.abc") == "smoke-deploy-42-abc"
    assert rerun.job_name("___") == "smoke-rerun"
    long = rerun.job_name("a" * 58 + "-" + "b" * 10)
    assert len(long) <= 63
    assert not long.endswith("-")
