"""Where a demo runs: a broker, a result backend and a work folder, prepared and cleaned up.

Embedded (the default): a fresh `filesystem://` broker and `file://` results in a temporary folder,
gone afterwards. A given RabbitMQ: used as it is, provided none of the suite's queues exists in its
vhost (so the demo can neither take a real fleet's tasks nor be fooled by leftovers); the queues
the demo's workers declared are deleted at the end.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from smoke import broker, embedded
from smoke.engine import Target
from smoke.errors import UsageError
from smoke.redact import mask_url

AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})
# The username the incident's ExternalSecrets carried instead of the right one (section 3.1).
WRONG_USER = "rabbitmq"
CONNECT_PATIENCE_S = 5.0


@dataclass(frozen=True)
class Site:
    broker_url: str
    backend_url: str
    workdir: Path

    @property
    def target(self) -> Target:
        return Target(self.broker_url, self.backend_url)

    def worker_env(self) -> dict[str, str]:
        """What every worker's Deployment injects (no prefix: the names Kubernetes uses)."""
        return {"CELERY_BROKER_URL": self.broker_url, "CELERY_RESULT_BACKEND": self.backend_url}

    def wrong_credentials_url(self) -> str:
        """The fleet's broker URL as a bad secret renders it. An embedded broker has no login: the
        closest thing is a URL naming another broker folder, which no other process uses."""
        if embedded.is_embedded(self.broker_url):
            return embedded.url_for(self.workdir / "broker-of-the-wrong-secret")
        parts = urlsplit(self.broker_url)
        user = WRONG_USER if parts.username != WRONG_USER else f"{WRONG_USER}-wrong"
        host = parts.netloc.rpartition("@")[2]
        password = f":{parts.password}" if parts.password is not None else ""
        return urlunsplit(parts._replace(netloc=f"{user}{password}@{host}"))


@contextlib.contextmanager
def provision(broker_url: str | None, queues: Sequence[str]) -> Iterator[Site]:
    workdir = Path(tempfile.mkdtemp(prefix="smoke-demo-"))
    try:
        backend = f"file://{workdir / 'results'}"
        (workdir / "results").mkdir()
        if broker_url is None:
            url = embedded.url_for(workdir / "broker")
            embedded.create(url)
            yield Site(url, backend, workdir)
        elif embedded.is_embedded(broker_url):
            yield Site(broker_url, backend, workdir)
        elif urlsplit(broker_url).scheme in AMQP_SCHEMES:
            with _queues_of_our_own(broker_url, queues):
                yield Site(broker_url, backend, workdir)
        else:
            raise UsageError(
                f"the demo runs on RabbitMQ (amqp://) or embedded (filesystem://), "
                f"not {mask_url(broker_url)}"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def _queues_of_our_own(url: str, queues: Sequence[str]) -> Iterator[None]:
    with broker.connect(url, CONNECT_PATIENCE_S) as connection:
        present = [q for q, stat in broker.queue_stats(connection, queues).items() if stat.exists]
    if present:
        raise UsageError(
            f"{mask_url(url)} already has queue(s) {', '.join(present)}: give the demo a vhost "
            "without them (e.g. rabbitmqctl add_vhost smoke-demo), so it cannot consume a real "
            "fleet's tasks"
        )
    try:
        yield
    finally:
        with broker.connect(url, CONNECT_PATIENCE_S) as connection:
            channel = connection.channel()
            for queue in queues:
                channel.queue_delete(queue)
            channel.close()
