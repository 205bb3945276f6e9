"""The embedded broker: kombu's `filesystem://` transport, located by its URL alone.

kombu takes the filesystem transport's folders from transport options only, so a bare
`filesystem://` cannot say which broker it means, and two processes given the same URL would not
meet. Here the URL's path names the broker's folder (`filesystem:///tmp/demo/broker`), so the
runner and the workers that share a broker share one URL, as they would share an `amqp://` URL.
Without a path the broker is in the working directory.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from pathlib import Path
from time import monotonic
from typing import Any
from urllib.parse import unquote, urlsplit

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps, loads

SCHEME = "filesystem"
TRANSPORT = f"{__name__}:Transport"
# kombu polls virtual transports once a second by default: a ping round trip would take seconds.
POLLING_INTERVAL_S = 0.1


class Channel(filesystem.Channel):  # type: ignore[misc]
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        """Write each message whole. kombu writes it in place, so a consumer polling the folder can
        take the file while it is still empty and die of a JSONDecodeError (kombu issue 1551)."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        folder = Path(self.data_folder_out)
        # Consumers pick files by the name after the first dot: with a leading dot, none match.
        partial = folder / f".{name}.part"
        partial.write_bytes(str_to_bytes(dumps(payload)))
        os.replace(partial, folder / name)

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str, queue: str) -> None:
        """Add a binding to the exchange's table under one lock, from creation on. kombu creates a
        missing table with a truncating open *before* it takes the lock: two processes binding at
        once (workers starting, the runner's reply queue) can leave one's JSON over the other's
        longer one, and every later reader dies of "JSONDecodeError: Extra data"."""
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with open(os.open(file, os.O_RDWR | os.O_CREAT, 0o644), "rb+", buffering=0) as table:
            fcntl.flock(table.fileno(), fcntl.LOCK_EX)
            text = table.read()
            bindings = [filesystem.exchange_queue_t(*b) for b in (loads(text) if text else [])]
            if binding not in bindings:
                table.seek(0)
                table.write(str_to_bytes(dumps([binding, *bindings])))
                table.truncate()


class Transport(filesystem.Transport):  # type: ignore[misc]
    Channel = Channel


def is_embedded(url: str) -> bool:
    return urlsplit(url).scheme == SCHEME


def folder(url: str) -> Path:
    return Path(unquote(urlsplit(url).path) or ".")


def url_for(path: Path) -> str:
    return f"{SCHEME}://{path.resolve().as_posix()}"


def transport_options(url: str) -> dict[str, Any]:
    """The kombu transport options `url` implies; none for brokers that are not embedded."""
    if not is_embedded(url):
        return {}
    root = folder(url)
    # One message folder for reading and writing: every process sees every queue.
    messages = str(root / "queues")
    return {
        "data_folder_in": messages,
        "data_folder_out": messages,
        "control_folder": str(root / "control"),
        "polling_interval": POLLING_INTERVAL_S,
    }


def transport(url: str) -> str | None:
    """The kombu transport for `url`: ours for embedded brokers, else whatever its scheme says."""
    return TRANSPORT if is_embedded(url) else None


def celery_conf(url: str) -> dict[str, Any]:
    """Celery settings for an app whose broker is `url` (none unless it is embedded)."""
    if not is_embedded(url):
        return {}
    return {"broker_transport": TRANSPORT, "broker_transport_options": transport_options(url)}


def exists(url: str) -> bool:
    return all(
        Path(transport_options(url)[key]).is_dir() for key in ("data_folder_in", "control_folder")
    )


def create(url: str) -> None:
    """Make the broker's folders: an embedded broker exists once a process that hosts it ran."""
    options = transport_options(url)
    for key in ("data_folder_in", "control_folder"):
        Path(options[key]).mkdir(parents=True, exist_ok=True)
