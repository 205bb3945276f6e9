"""The embedded broker as the runner sees it: located by its URL, messages written whole, a missing
broker reported as unreachable, a result read mid-write polled again."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from celery import Celery
from kombu import Connection
from kombu.transport.virtual import Empty

from smoke import broker, canary, embedded
from smoke.errors import BrokerUnreachable


def test_the_url_path_is_the_broker_folder(tmp_path: Path) -> None:
    url = embedded.url_for(tmp_path / "broker")
    assert url == f"filesystem://{tmp_path}/broker"
    options = embedded.transport_options(url)
    assert options["data_folder_in"] == options["data_folder_out"] == f"{tmp_path}/broker/queues"
    assert options["control_folder"] == f"{tmp_path}/broker/control"
    assert embedded.folder("filesystem://") == Path(".")
    assert embedded.transport_options("amqp://guest:guest@localhost//") == {}
    assert embedded.celery_conf("amqp://guest:guest@localhost//") == {}


def test_two_connections_given_one_url_share_one_broker(tmp_path: Path) -> None:
    url = embedded.url_for(tmp_path / "broker")
    embedded.create(url)
    with broker.connect(url, 1.0) as writer, broker.connect(url, 1.0) as reader:
        writer.default_channel._put("scan.vision", {"hello": 1})
        assert reader.default_channel._get("scan.vision") == {"hello": 1}


def test_messages_are_never_seen_half_written(tmp_path: Path) -> None:
    # kombu's own _put writes in place; a reader polling alongside it then reads empty files.
    url = embedded.url_for(tmp_path / "broker")
    embedded.create(url)
    count, errors, received = 1000, [], []

    def connection() -> Connection:
        return Connection(
            url,
            transport=embedded.transport(url),
            transport_options=embedded.transport_options(url),
        )

    def write() -> None:
        with connection() as conn:
            for i in range(count):
                conn.default_channel._put("q", {"i": i, "pad": "x" * 2000})

    def read() -> None:
        with connection() as conn:
            while len(received) + len(errors) < count:
                try:
                    received.append(conn.default_channel._get("q"))
                except Empty:
                    continue
                except ValueError as exc:
                    errors.append(exc)

    threads = [threading.Thread(target=read), threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(m["i"] for m in received) == list(range(count))


def test_concurrent_binds_leave_a_readable_table_with_every_binding(tmp_path: Path) -> None:
    # Workers binding their pidbox queues while the runner binds its reply queue: kombu's own
    # _queue_bind could leave one writer's JSON over another's ("Extra data").
    url = embedded.url_for(tmp_path / "broker")
    embedded.create(url)
    rounds, writers = 20, 8
    for round_ in range(rounds):
        exchange = f"celery.pidbox.{round_}"
        start = threading.Barrier(writers)

        def bind(i: int, exchange: str = exchange, start: threading.Barrier = start) -> None:
            with Connection(
                url,
                transport=embedded.transport(url),
                transport_options=embedded.transport_options(url),
            ) as conn:
                start.wait()
                conn.default_channel._queue_bind(
                    exchange, "", "", f"node-{i}-with-a-longer-name" * (i % 3 + 1)
                )

        threads = [threading.Thread(target=bind, args=(i,)) for i in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        with broker.connect(url, 1.0) as conn:
            queues = {q.queue for q in conn.default_channel.get_table(exchange)}
        assert queues == {f"node-{i}-with-a-longer-name" * (i % 3 + 1) for i in range(writers)}


def test_a_missing_embedded_broker_is_unreachable(tmp_path: Path) -> None:
    url = embedded.url_for(tmp_path / "nothing-here")
    with pytest.raises(BrokerUnreachable, match="no embedded broker in"):
        broker.connect(url, 0.0, sleep=lambda _: None)


def test_a_result_read_mid_write_is_polled_again(tmp_path: Path) -> None:
    app = Celery("reader", backend=f"file://{tmp_path}", set_as_current=False)
    task_id = "smoke-run-1"
    (tmp_path / f"celery-task-meta-{task_id}").write_bytes(b"")  # what a reader sees mid-write
    assert list(canary._ready(app.backend, {task_id}, 0.05)) == []
    app.backend.store_result(task_id, {"status": "ok"}, "SUCCESS")
    [(ready_id, meta)] = list(canary._ready(app.backend, {task_id}, 1.0))
    assert (ready_id, meta["result"]) == (task_id, {"status": "ok"})
