from __future__ import annotations

from dataclasses import astuple

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from smoke.lint.brokers import BrokerURLError, broker_urls, parse_broker_url

TEMPLATED = (
    "amqp://rabbitmq:{{ .rabbitmqPassword }}@eco2-rabbitmq.rabbitmq.svc.cluster.local:5672/eco2"
)


def test_external_secret_template_parses_with_the_password_as_placeholder() -> None:
    url = parse_broker_url(TEMPLATED)
    assert (url.user, url.host, url.port, url.vhost) == (
        "rabbitmq",
        "eco2-rabbitmq.rabbitmq.svc.cluster.local",
        5672,
        "eco2",
    )
    assert url.service == "eco2-rabbitmq.rabbitmq"
    assert url.display() == (
        "amqp://rabbitmq:**@eco2-rabbitmq.rabbitmq.svc.cluster.local:5672/eco2"
    )


def test_defaults_and_short_service_names_resolve_in_the_manifest_namespace() -> None:
    url = parse_broker_url("pyamqp://admin:pw@eco2-rabbitmq", namespace="rabbitmq")
    assert (url.family, url.port, url.vhost, url.service) == (
        "amqp",
        5672,
        "/",
        "eco2-rabbitmq.rabbitmq",
    )
    assert parse_broker_url("amqps://a:b@mq.svc/x").port == 5671


def test_templated_parts_are_unknown_not_compared() -> None:
    url = parse_broker_url("amqp://{{ .user }}:{{ .pw }}@mq:{{ .port }}/$(VHOST)")
    assert (url.user, url.host, url.port, url.vhost) == (None, "mq", None, None)


def test_redis_paths_are_databases_not_vhosts() -> None:
    assert parse_broker_url("redis://:pw@redis.cache:6379/3").vhost is None


def test_failover_lists_yield_every_url_and_other_values_none() -> None:
    urls = list(broker_urls("amqp://a:p@one//;amqp://b:p@two//"))
    assert [u.user for u in urls] == ["a", "b"]
    assert list(broker_urls("https://example.com/amqp://x")) == []


def test_a_broken_port_is_an_error_that_does_not_repeat_the_url() -> None:
    with pytest.raises(BrokerURLError) as caught:
        parse_broker_url("amqp://admin:pa/ss-Secret42@mq:5672/eco2")
    assert "Secret42" not in str(caught.value)


@settings(max_examples=200)
@given(
    password=st.text(
        alphabet=st.characters(categories=["L", "N"], include_characters="-_.~!$&'()*+,="),
        min_size=8,
    )
)
def test_the_password_never_reaches_a_parsed_url(password: str) -> None:
    rest = "amqp://admin:@eco2-rabbitmq.rabbitmq:5672/eco2"
    assume(password not in rest)
    text = rest.replace(":@", f":{password}@")
    try:
        urls = list(broker_urls(text))
    except BrokerURLError as exc:
        assert password not in str(exc)
        return
    for url in urls:
        assert all(password not in str(value) for value in astuple(url))
        assert password not in url.display()
