"""The runner's own broker connection and the broker-side facts about queues.

Errors here are the runner's, not a worker's: they end the run with exit 3. Only an unreachable
broker is retried (it may still be starting after a sync); a refused login or a missing vhost is
final at once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from amqp.exceptions import AccessRefused, NotAllowed, NotFound
from kombu import Connection
from kombu.exceptions import OperationalError
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

from smoke import embedded
from smoke.errors import BrokerAccessRefused, BrokerLost, BrokerUnreachable, VhostMissing
from smoke.redact import mask_url

# Drivers whose passive declare reports real consumer counts. Virtual transports (filesystem,
# redis, memory) answer every passive declare with 0 consumers, so their counts mean nothing.
_COUNTING_DRIVERS = frozenset({"amqp", "librabbitmq"})
CLOSE_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class QueueStat:
    name: str
    exists: bool | None  # None: the transport cannot tell
    messages: int | None = None
    consumers: int | None = None  # None: the transport cannot tell


def connect(
    url: str,
    patience_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Connection:
    """Open a connection, retrying an unreachable broker for up to `patience_s` seconds."""
    connection = Connection(
        url,
        connect_timeout=min(5.0, max(patience_s, 0.5)),
        transport=embedded.transport(url),
        transport_options=embedded.transport_options(url),
    )
    retrying = Retrying(
        stop=stop_after_delay(patience_s),
        wait=wait_exponential_jitter(multiplier=0.1, max=2.0),
        retry=retry_if_exception_type(BrokerUnreachable),
        sleep=sleep,
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                _connect_once(connection, url)
    except BaseException:
        connection.release()
        raise
    return connection


def _connect_once(connection: Connection, url: str) -> None:
    masked = mask_url(url)
    if embedded.is_embedded(url) and not embedded.exists(url):
        # The filesystem transport "connects" to any folder; reading a missing one fails later.
        raise BrokerUnreachable(
            f"cannot reach broker {masked}: no embedded broker in {embedded.folder(url)}",
            broker=masked,
        )
    try:
        connection.ensure_connection(
            max_retries=1, interval_start=0, timeout=connection.connect_timeout
        )
    except AccessRefused:
        user = urlsplit(url).username or "(none)"
        raise BrokerAccessRefused(
            f"broker refused our login as user {user!r} at {masked} (AccessRefused 403)",
            broker=masked,
            user=user,
        ) from None
    except NotAllowed:
        vhost = urlsplit(url).path.lstrip("/") or "/"
        raise VhostMissing(
            f"vhost {vhost!r} does not exist or is not open to us at {masked} (NotAllowed 530)",
            broker=masked,
            vhost=vhost,
        ) from None
    except (TimeoutError, OperationalError, OSError) as exc:
        raise BrokerUnreachable(f"cannot reach broker {masked}: {exc}", broker=masked) from None


@contextlib.contextmanager
def held(connection: Connection, url: str) -> Iterator[Connection]:
    """Use an open connection until the run is done. Losing it mid-run becomes `BrokerLost`
    (exit 3, with a summary) instead of a traceback. On any error the connection is dropped
    without the polite AMQP close, which waits for the broker's reply: a stalled broker would
    hold the run past its deadline."""
    errors = tuple(connection.connection_errors)
    try:
        yield connection
    except errors as exc:
        connection.collect()
        masked = mask_url(url)
        raise BrokerLost(
            f"lost the connection to broker {masked} mid-run: {type(exc).__name__}: {exc}",
            broker=masked,
        ) from None
    except BaseException:
        connection.collect()
        raise
    # The run is done: a broker that stalls now gets a moment to confirm the close, not the rest
    # of the deadline. (Virtual transports have no socket to bound.)
    bounded = getattr(getattr(connection.connection, "transport", None), "having_timeout", None)
    with (
        contextlib.suppress(*errors),
        bounded(CLOSE_TIMEOUT_S) if bounded else contextlib.nullcontext(),
    ):
        connection.release()


def can_count_consumers(connection: Connection) -> bool:
    return str(connection.transport.driver_type) in _COUNTING_DRIVERS


def queue_stats(connection: Connection, names: Iterable[str]) -> dict[str, QueueStat]:
    """Passive-declare every queue on one reused channel (a 404 closes it: then open one more)."""
    names = list(names)
    if not can_count_consumers(connection):
        return {name: QueueStat(name, exists=None) for name in names}
    stats: dict[str, QueueStat] = {}
    channel = connection.channel()
    for name in names:
        try:
            _, messages, consumers = channel.queue_declare(queue=name, passive=True)
        except NotFound:
            stats[name] = QueueStat(name, exists=False)
            channel = connection.channel()
        else:
            stats[name] = QueueStat(name, True, messages, consumers)
    # Closed politely only on success: after an error `held` drops the whole connection, and a
    # close that waits on a stalled broker would outlive the deadline.
    channel.close()
    return stats
