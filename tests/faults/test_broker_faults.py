"""The runner's broker connection breaks (through a proxy on loopback, never the shared RabbitMQ):
the verdict stays correct, no check it did not finish passes, and the deadline holds."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from smoke.demo.processes import WorkerProcess
from tests.faults.conftest import fault_suite, statuses, timed_run
from tests.support.tcpproxy import TcpProxy

pytestmark = pytest.mark.integration

# Startup of the interpreter and imports come on top of the suite's deadline.
STARTUP_ALLOWANCE_S = 5
AMQP_CONNECTION_CLOSE = b"\x00\x0a\x00\x32"  # method frame payload: class 10 (connection), 50


def test_broker_unreachable_at_start_then_reachable_within_settle_passes(
    fleet: list[WorkerProcess], proxy: TcpProxy, via_proxy: str, tmp_path: Path
) -> None:
    proxy.refuse()
    opener = threading.Thread(target=lambda: proxy.wait_for("refused") and proxy.accept())
    opener.start()
    _, code, summary = timed_run(tmp_path, via_proxy, fault_suite())
    opener.join()
    assert proxy.refused >= 1, "the runner must have met the closed door first"
    assert code == 0, summary
    assert set(statuses(summary).values()) == {"pass"}


def test_broker_never_reachable_exits_3_within_the_deadline(
    proxy: TcpProxy, via_proxy: str, tmp_path: Path
) -> None:
    proxy.refuse()
    elapsed, code, summary = timed_run(tmp_path, via_proxy, fault_suite(deadline="4s", settle="2s"))
    assert code == 3
    assert summary["verdict"] == "error"
    assert summary["error"].startswith(
        f"cannot reach broker amqp://guest:**@127.0.0.1:{proxy.port}/"
    )
    assert set(statuses(summary).values()) == {"skip"}
    assert elapsed < 4 + STARTUP_ALLOWANCE_S


def test_connection_cut_while_asking_the_fleet_fails_with_the_reason(
    fleet: list[WorkerProcess], proxy: TcpProxy, via_proxy: str, tmp_path: Path
) -> None:
    proxy.cut_on(b"celery.pidbox")  # the reply queue and the broadcasts name the pidbox
    _, code, summary = timed_run(tmp_path, via_proxy, fault_suite())
    assert proxy.cuts == 1
    assert code == 3
    assert "lost the connection to broker" in summary["error"]
    assert "ConnectionResetError" in summary["error"]
    assert set(statuses(summary).values()) == {"skip"}, "nothing finished, nothing may pass"


def test_connection_cut_while_sending_canaries_keeps_what_finished(
    fleet: list[WorkerProcess], proxy: TcpProxy, via_proxy: str, tmp_path: Path
) -> None:
    proxy.cut_on(b"smoke.probe")  # the first canary's publish
    _, code, summary = timed_run(tmp_path, via_proxy, fault_suite())
    assert code == 3, [
        (c["id"], c["status"], c["reason"]) for c in summary["checks"] if c["status"] != "pass"
    ]
    assert "lost the connection to broker" in summary["error"]
    by_status = statuses(summary)
    assert {s for cid, s in by_status.items() if cid.startswith("canary:")} == {"skip"}
    assert {s for cid, s in by_status.items() if not cid.startswith("canary:")} == {"pass"}


def test_stalled_broker_never_holds_the_run_past_its_deadline(
    fleet: list[WorkerProcess], proxy: TcpProxy, via_proxy: str, tmp_path: Path
) -> None:
    proxy.pause_on(b"scan.vision")  # the passive declare of the first queue: no reply ever comes
    elapsed, code, summary = timed_run(tmp_path, via_proxy, fault_suite(deadline="4s", settle="2s"))
    proxy.resume()
    assert code == 1
    assert elapsed < 4 + STARTUP_ALLOWANCE_S
    checks = summary["checks"]
    assert {c["status"] for c in checks} == {"error"}
    assert {c["reason"] for c in checks} == {"deadline of 4s ran out before this check finished"}


def test_broker_stalling_after_the_verdict_costs_a_moment_not_the_deadline(
    fleet: list[WorkerProcess], proxy: TcpProxy, via_proxy: str, tmp_path: Path
) -> None:
    proxy.pause_on(AMQP_CONNECTION_CLOSE)
    elapsed, code, summary = timed_run(tmp_path, via_proxy, fault_suite(deadline="60s"))
    proxy.resume()
    assert code == 0, summary
    assert elapsed < 60 / 2, "the polite close must be bounded, not wait for the deadline"
