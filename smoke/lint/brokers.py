"""Broker URLs as found in manifests: parsed with template placeholders, never keeping the password.

`amqp://rabbitmq:{{ .rabbitmqPassword }}@eco2-rabbitmq.rabbitmq.svc.cluster.local:5672/eco2`
parses to user `rabbitmq`, service `eco2-rabbitmq.rabbitmq`, port 5672, vhost `eco2`. A part
that is itself a placeholder is unknown (None) and compared with nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

# external-secrets `{{ .x }}`, Kubernetes `$(VAR)`, shell/envsubst `${VAR}`.
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\{[^}]*\}")
_MARK = "zzsmokeplaceholderzz"
_URL_START = re.compile(r"^\s*(amqps?|pyamqp|librabbitmq|rediss?)://", re.IGNORECASE)
_FAMILY = {"amqp": "amqp", "amqps": "amqp", "pyamqp": "amqp", "librabbitmq": "amqp"}
_DEFAULT_PORT = {"amqps": 5671, "amqp": 5672, "pyamqp": 5672, "librabbitmq": 5672}
_CLUSTER_SUFFIXES = (".svc.cluster.local", ".svc")


class BrokerURLError(ValueError):
    """Not a usable URL; the message never contains the URL (it may hold a password)."""


@dataclass(frozen=True)
class BrokerURL:
    family: str  # amqp or redis
    scheme: str
    user: str | None
    host: str | None
    port: int | None
    vhost: str | None  # AMQP only: redis paths are database numbers, free to differ
    namespace: str | None = None  # of the manifest, to resolve short Service names

    @property
    def service(self) -> str | None:
        """The broker's identity: `svc.namespace` for in-cluster names, else the host."""
        if self.host is None:
            return None
        host = self.host
        for suffix in _CLUSTER_SUFFIXES:
            if host.endswith(suffix):
                host = host.removesuffix(suffix)
                break
        if "." not in host and self.namespace:
            return f"{host}.{self.namespace}"
        return host

    def display(self) -> str:
        user = self.user if self.user is not None else "{{...}}"
        host = self.host if self.host is not None else "{{...}}"
        port = f":{self.port}" if self.port is not None else ""
        vhost = f"/{self.vhost}" if self.vhost is not None else ""
        return f"{self.scheme}://{user}:**@{host}{port}{vhost}"


def broker_urls(text: str, namespace: str | None = None) -> Iterator[BrokerURL]:
    """Every broker URL in a value; Celery failover lists separate URLs with `;`."""
    for part in text.split(";"):
        if _URL_START.match(part):
            yield parse_broker_url(part.strip(), namespace)


def parse_broker_url(text: str, namespace: str | None = None) -> BrokerURL:
    placeholders = _PLACEHOLDER.findall(text)
    marked = text
    for i, found in enumerate(placeholders):
        marked = marked.replace(found, f"{_MARK}{i}x", 1)
    try:
        parts = urlsplit(marked)
    except ValueError:
        raise BrokerURLError("not a valid URL (check any special characters)") from None
    try:
        port = parts.port
    except ValueError:
        if _MARK not in parts.netloc.rpartition("@")[2]:
            raise BrokerURLError("not a valid URL (the port is not a number)") from None
        port = None  # templated port: unknown
    else:
        port = port if port is not None else _DEFAULT_PORT.get(parts.scheme.lower(), 6379)
    scheme = parts.scheme.lower()
    family = _FAMILY.get(scheme, "redis")
    vhost: str | None = None
    if family == "amqp":
        vhost = unquote(parts.path[1:]) or "/"
    return BrokerURL(
        family=family,
        scheme=scheme,
        user=_known(unquote(parts.username or "")),
        host=_known(parts.hostname or ""),
        port=port,
        vhost=_known(vhost) if vhost is not None else None,
        namespace=namespace,
    )


def _known(value: str) -> str | None:
    return None if _MARK in value else value
