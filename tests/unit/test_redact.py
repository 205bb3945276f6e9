from __future__ import annotations

from smoke.redact import mask_url, redact, redact_text


def test_mask_url_keeps_user_host_and_vhost() -> None:
    assert (
        mask_url("amqp://admin:s3cret@eco2-rabbitmq:5672/eco2")
        == "amqp://admin:**@eco2-rabbitmq:5672/eco2"
    )
    assert mask_url("redis://:pw@redis:6379/0") == "redis://:**@redis:6379/0"
    assert mask_url("amqp://guest@localhost//") == "amqp://guest@localhost//"


def test_redact_text_finds_urls_inside_log_lines() -> None:
    line = "consumer: Cannot connect to amqp://rabbitmq:p@ss:w0rd@eco2-rabbitmq.rabbitmq.svc:5672/eco2: refused"
    assert "p@ss" not in redact_text(line) and "w0rd" not in redact_text(line)
    assert "amqp://rabbitmq:**@" in redact_text(line)


def test_slack_secrets_are_masked() -> None:
    text = "posting to https://hooks.slack.com/services/T000/B000/XXXXSECRET with xoxb-123-456-abc"
    redacted = redact_text(text)
    assert "XXXXSECRET" not in redacted and "xoxb-123" not in redacted


def test_redact_walks_nested_data() -> None:
    data = {"a": ["amqp://u:pw@h/v", {"b": "redis://:pw@r/0"}], "n": 3}
    assert redact(data) == {"a": ["amqp://u:**@h/v", {"b": "redis://:**@r/0"}], "n": 3}
