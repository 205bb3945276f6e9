"""A TCP proxy on loopback that a test steers, to break the runner's connections on purpose.

The shared RabbitMQ and Redis are never touched: only traffic through the proxy is affected.
Controls: `refuse()` (accept, then reset at once: a broker that is not there yet), `accept()`,
`cut()` (reset every open connection), `pause()`/`resume()` (stop forwarding bytes: a stalled
network), and `cut_on(marker)` / `pause_on(marker)` (do that as soon as a client sends those bytes,
before forwarding them, to break a protocol exchange at a known step).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator

_CHUNK = 65536


def _reset(sock: socket.socket) -> None:
    """Close with RST, as a crashed peer or a dropped NAT entry does, not with a polite FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class TcpProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Condition()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._refusing = False
        self._flowing = threading.Event()
        self._flowing.set()
        self._trigger: tuple[bytes, Callable[[], None]] | None = None
        self.refused = 0  # connections reset while refusing
        self.accepted = 0
        self.cuts = 0
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="tcpproxy", daemon=True)
        self._thread.start()

    def url(self, scheme: str, path: str, userinfo: str = "") -> str:
        return f"{scheme}://{userinfo + '@' if userinfo else ''}127.0.0.1:{self.port}/{path}"

    # -- controls ---------------------------------------------------------------------------

    def refuse(self) -> None:
        with self._lock:
            self._refusing = True

    def accept(self) -> None:
        with self._lock:
            self._refusing = False

    def pause(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def cut(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
            self.cuts += 1
            self._lock.notify_all()
        for client, server in pairs:
            _reset(client)
            _reset(server)

    def cut_on(self, marker: bytes) -> None:
        self._trigger = (marker, self.cut)

    def pause_on(self, marker: bytes) -> None:
        self._trigger = (marker, self.pause)

    def wait_for(self, what: str, at_least: int = 1, timeout: float = 30.0) -> bool:
        """Wait until `refused`, `accepted` or `cuts` reaches `at_least`."""
        with self._lock:
            return self._lock.wait_for(lambda: getattr(self, what) >= at_least, timeout)

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        with contextlib.suppress(OSError):  # wakes the blocked accept(); close() alone does not
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self.cut()
        self._thread.join(5)

    # -- plumbing ---------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refusing = self._refusing
                if refusing:
                    self.refused += 1
                    self._lock.notify_all()
            if refusing:
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.append((client, server))
                self.accepted += 1
                self._lock.notify_all()
            for source, sink, outbound in ((client, server, True), (server, client, False)):
                threading.Thread(
                    target=self._pump, args=(source, sink, outbound), daemon=True
                ).start()

    def _pump(self, source: socket.socket, sink: socket.socket, outbound: bool) -> None:
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data:
                    break
                trigger = self._trigger
                if outbound and trigger is not None and trigger[0] in data:
                    self._trigger = None
                    trigger[1]()
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def proxy_to(host: str, port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy((host, port))
    try:
        yield proxy
    finally:
        proxy.close()
