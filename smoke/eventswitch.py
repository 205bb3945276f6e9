"""Task events switched on for a run only where they were off, and switched off again afterwards.

No inspect command reports whether a node sends task events: `conf` shows the configured
`worker_send_task_events` but neither `-E` nor a remote `enable_events` (Flower sends one). The
`enable_events` reply itself does, and atomically: "task events enabled" means it was off and we
turned it on, "already enabled" means it was on and nothing changed, "event dispatcher unavailable"
means the node sends no events at all (started with --without-heartbeat --without-gossip and no
-E) and cannot be made to. So we send `enable_events` to the target nodes only, and later
`disable_events` only to the nodes whose reply says we turned it on.
"""

from __future__ import annotations

import signal
from collections.abc import Collection
from dataclasses import dataclass

from celery import Celery
from kombu import Connection

from smoke.fleet import ask_nodes

ENABLED = "task events enabled"
ALREADY = "task events already enabled"
# Restoring is cleanup that must happen even after the deadline ran out; with `destination` the
# live nodes answer in milliseconds, so this only bounds the wait for a node that died.
RESTORE_WINDOW_S = 1.0


@dataclass(frozen=True)
class Switch:
    turned_on: tuple[str, ...] = ()  # off before the run; ours to switch off again
    already_on: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()  # no event dispatcher: cannot send task events at all


@dataclass(frozen=True)
class Restore:
    switched_off: tuple[str, ...] = ()
    not_switched_off: tuple[str, ...] = ()  # did not answer: gone, or its reply was lost

    def describe(self) -> str:
        if not (self.switched_off or self.not_switched_off):
            return ""
        text = "task events were enabled temporarily on " + ", ".join(
            self.switched_off + self.not_switched_off
        )
        if not self.not_switched_off:
            return text + " and switched off again"
        return text + (
            f"; {', '.join(self.not_switched_off)} did not confirm switching them off "
            "(a node that died restarts with its own settings)"
        )


def enable(app: Celery, connection: Connection, nodes: Collection[str], window_s: float) -> Switch:
    replies = ask_nodes(app, connection, {"enable_events": {}}, nodes, window_s)["enable_events"]
    turned_on, already_on, unavailable = [], [], []
    for node, reply in sorted(replies.items()):
        said = reply.get("ok") if isinstance(reply, dict) else None
        if said == ENABLED:
            turned_on.append(node)
        elif said == ALREADY:
            already_on.append(node)
        else:
            unavailable.append(node)
    return Switch(tuple(turned_on), tuple(already_on), tuple(unavailable))


def restore(app: Celery, connection: Connection, switch: Switch) -> Restore:
    if not switch.turned_on:
        return Restore()
    # A second SIGTERM must not cut the restore short: it is held for at most RESTORE_WINDOW_S.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        replies = ask_nodes(
            app, connection, {"disable_events": {}}, switch.turned_on, RESTORE_WINDOW_S
        )["disable_events"]
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    off = tuple(
        n for n in switch.turned_on if isinstance(replies.get(n), dict) and "ok" in replies[n]
    )
    return Restore(off, tuple(n for n in switch.turned_on if n not in off))
