from __future__ import annotations

from collections.abc import Callable

from smoke.lint.findings import Severity
from tests.lint.helpers import BASE_SUITE, Lint

RULE = "env-name-mismatch"
PREFIXED_SUITE = BASE_SUITE.replace(
    "env: [CELERY_BROKER_URL]", "env: [CELERY_BROKER_URL]\n    env_prefix: SCAN_WORKER_"
)


def test_a_prefix_in_the_settings_the_deployment_does_not_use(
    lint: Lint, deployment: Callable[..., str]
) -> None:
    (finding,) = lint(RULE, deployment(), PREFIXED_SUITE)
    assert finding.severity is Severity.ERROR
    assert "SCAN_WORKER_CELERY_BROKER_URL" in finding.message
    assert "it injects CELERY_BROKER_URL" in finding.message
    assert "remove env_prefix" in finding.hint
    assert finding.path == "spec.template.spec.containers[0].env"


def test_a_prefix_in_the_deployment_the_settings_do_not_use(
    lint: Lint, deployment: Callable[..., str]
) -> None:
    env = "[{name: SCAN_WORKER_CELERY_BROKER_URL, value: x}]"
    (finding,) = lint(RULE, deployment(env=env))
    assert "CELERY_BROKER_URL (it injects SCAN_WORKER_CELERY_BROKER_URL)" in finding.message
    assert "names must match exactly" in finding.hint


def test_matching_names_pass(lint: Lint, deployment: Callable[..., str]) -> None:
    assert lint(RULE, deployment()) == []
    env = "[{name: SCAN_WORKER_CELERY_BROKER_URL, value: x}]"
    assert lint(RULE, deployment(env=env), PREFIXED_SUITE) == []


ENV_FROM = """          envFrom:
            - secretRef: {name: scan-secret}
              prefix: SCAN_WORKER_
"""


def test_env_from_keys_count_when_the_secret_is_visible(
    lint: Lint, deployment: Callable[..., str]
) -> None:
    external_secret = """
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: {name: scan-secrets, namespace: scan}
spec:
  target:
    name: scan-secret
    template:
      data: {CELERY_BROKER_URL: "amqp://admin:{{ .pw }}@mq/eco2"}
"""
    manifests = deployment(env="[]", extra=ENV_FROM) + external_secret
    assert lint(RULE, manifests, PREFIXED_SUITE) == []
    # Without the Secret in view, lint cannot tell: a warning, not a failed build.
    (finding,) = lint(RULE, deployment(env="[]", extra=ENV_FROM), PREFIXED_SUITE)
    assert finding.severity is Severity.WARNING
    assert "unless Secret scan-secret (not in these manifests) has them" in finding.message


def test_nothing_injected_at_all(lint: Lint, deployment: Callable[..., str]) -> None:
    (finding,) = lint(RULE, deployment(env="[]"))
    assert finding.severity is Severity.ERROR
    assert finding.message.endswith("the settings read: CELERY_BROKER_URL")


def test_a_secret_key_reference_to_a_key_the_secret_lacks(
    lint: Lint, deployment: Callable[..., str]
) -> None:
    secret = """
---
apiVersion: v1
kind: Secret
metadata: {name: scan-secret, namespace: scan}
stringData: {BROKER_URL: x}
"""
    ref = "{secretKeyRef: {name: scan-secret, key: CELERY_BROKER_URL}}"
    env = f"[{{name: CELERY_BROKER_URL, valueFrom: {ref}}}]"
    (finding,) = lint(RULE, deployment(env=env) + secret)
    assert "reads key 'CELERY_BROKER_URL' of Secret scan-secret, which has only BROKER_URL" in (
        finding.message
    )
    optional = env.replace("key: CELERY_BROKER_URL}", "key: CELERY_BROKER_URL, optional: true}")
    assert lint(RULE, deployment(env=optional) + secret) == []
