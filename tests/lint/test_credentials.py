from __future__ import annotations

import base64
from collections.abc import Callable

from smoke.lint.findings import Severity
from tests.lint.helpers import Lint

RULE = "broker-credential-drift"


def secret(name: str, url: str, namespace: str = "app", encoded: bool = False) -> str:
    if encoded:
        value = base64.b64encode(url.encode()).decode()
        return f"""
---
apiVersion: v1
kind: Secret
metadata: {{name: {name}, namespace: {namespace}}}
data: {{CELERY_BROKER_URL: {value}}}
"""
    return f"""
---
apiVersion: v1
kind: Secret
metadata: {{name: {name}, namespace: {namespace}}}
stringData: {{CELERY_BROKER_URL: "{url}"}}
"""


def test_the_minority_user_is_reported_where_it_is_set(lint: Lint) -> None:
    manifests = (
        secret("a", "amqp://admin:pw@eco2-rabbitmq.rabbitmq:5672/eco2")
        + secret("b", "amqp://admin:pw@eco2-rabbitmq.rabbitmq.svc.cluster.local/eco2", encoded=True)
        + secret("c", "amqp://rabbitmq:pw@eco2-rabbitmq.rabbitmq.svc:5672/eco2")
    )
    (finding,) = lint(RULE, manifests)
    assert finding.severity is Severity.ERROR
    assert (finding.object, finding.path, finding.line) == (
        "Secret app/c",
        "stringData.CELERY_BROKER_URL",
        18,
    )
    assert "user 'rabbitmq' differs from 'admin' used by 2 other sources" in finding.message
    assert "use user 'admin' as in m.yaml (Secret app/a)" in finding.hint


def test_without_a_majority_every_source_is_reported(lint: Lint) -> None:
    findings = lint(
        RULE, secret("a", "amqp://admin:pw@mq/eco2") + secret("b", "amqp://admin:pw@mq/eco3")
    )
    assert len(findings) == 2
    assert all("disagree on vhost: 'eco2' (1), 'eco3' (1)" in f.message for f in findings)


def test_port_drift_and_env_literals_count_too(lint: Lint, deployment: Callable[..., str]) -> None:
    env = '[{name: CELERY_BROKER_URL, value: "amqp://admin:pw@mq.app:5673/eco2"}]'
    manifests = (
        secret("a", "amqp://admin:pw@mq/eco2")
        + secret("b", "amqp://admin:pw@mq/eco2")
        + deployment(namespace="app", env=env)
    )
    (finding,) = lint(RULE, manifests)
    assert "port 5673 differs from 5672" in finding.message
    assert finding.path == "spec.template.spec.containers[0].env[0].value"


def test_different_brokers_and_unknown_parts_are_not_compared(lint: Lint) -> None:
    manifests = (
        secret("a", "amqp://admin:pw@mq-one.app/eco2")
        + secret("b", "amqp://other:pw@mq-two.app/x")
        + secret("c", "amqp://{{ .user }}:{{ .pw }}@mq-one.app/eco2")
        + secret("d", "redis://:pw@redis.app:6379/1")
        + secret("e", "redis://:pw@redis.app:6379/2")
    )
    (finding,) = lint(RULE, manifests)
    # Two brokers under one setting name is worth a look, not a failed build.
    assert finding.severity is Severity.WARNING
    assert finding.object == "Secret app/b"
    assert "setting CELERY_BROKER_URL: service 'mq-two.app' differs from 'mq-one.app'" in (
        finding.message
    )


def test_an_unparseable_url_is_reported_without_its_text(lint: Lint) -> None:
    (finding,) = lint(RULE, secret("a", "amqp://admin:Se/cret@mq:5672/eco2"))
    assert "port is not a number" in finding.message
    assert "Se/cret" not in finding.message + finding.hint
