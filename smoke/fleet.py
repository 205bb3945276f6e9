"""What the fleet says about itself: who answered, what each node consumes and has registered.

All three questions (ping, active_queues, registered) go out as broadcasts at once and their replies
are collected on one reply queue. Collection returns as soon as every expected node has answered all
three, plus a quiet gap for stragglers as long as those nodes took (20-100 ms), instead of waiting
out an idle timeout as `celery inspect` does.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from celery import Celery
from kombu import Connection, Consumer, Message

COMMANDS = ("ping", "active_queues", "registered")
MIN_QUIET_S = 0.02


@dataclass(frozen=True)
class Node:
    name: str
    queues: frozenset[str] = frozenset()
    registered: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FleetSnapshot:
    nodes: dict[str, Node] = field(default_factory=dict)

    def matching(self, pattern: str) -> tuple[Node, ...]:
        return tuple(
            node for name, node in sorted(self.nodes.items()) if fnmatchcase(name, pattern)
        )

    def consumers_of(self, queue: str) -> tuple[Node, ...]:
        return tuple(node for _, node in sorted(self.nodes.items()) if queue in node.queues)

    def merge(self, other: FleetSnapshot) -> FleetSnapshot:
        return FleetSnapshot({**self.nodes, **other.nodes})


@dataclass(frozen=True)
class Expectation:
    """How many nodes must answer per node-name pattern, and exact names when they are known."""

    patterns: dict[str, int]
    names: frozenset[str] = frozenset()

    def met_by(self, answered: Iterable[str]) -> bool:
        answered = set(answered)
        if not self.names <= answered:
            return False
        return all(
            sum(fnmatchcase(name, pattern) for name in answered) >= minimum
            for pattern, minimum in self.patterns.items()
        )


def gather(
    app: Celery,
    connection: Connection,
    expectation: Expectation,
    window_s: float,
    quiet_s: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    counted: Mapping[str, int] | None = None,
) -> FleetSnapshot:
    """One round of the three broadcasts; returns early once `expectation` is met.

    `counted` is the broker's consumer count per queue, where it has one: once the nodes that
    answered account for every one of those consumers, no straggler can change what the checks
    see, and there is no quiet gap to wait out."""
    mailbox = app.control.mailbox(connection)
    channel = connection.default_channel
    tickets = {uuid.uuid4().hex: command for command in COMMANDS}
    replies: dict[str, dict[str, Any]] = {command: {} for command in COMMANDS}

    def on_reply(body: Any, message: Message) -> None:
        command = tickets.get(message.headers.get("ticket", ""))
        if command is not None and isinstance(body, dict):
            replies[command].update(body)

    consumer = Consumer(channel, [mailbox.reply_queue], accept=["json"], no_ack=True)
    consumer.register_callback(on_reply)
    try:
        consumer.consume()
        for ticket, command in tickets.items():
            mailbox._publish(command, {}, reply_ticket=ticket, channel=channel, timeout=window_s)
        satisfied = lambda: expectation.met_by(_complete(replies))  # noqa: E731
        accounted = lambda: bool(counted) and accounted_for(replies, counted or {})  # noqa: E731
        # Met before anyone answered (nothing expected): no answer to measure the gap against.
        gap = lambda waited: quiet_gap(waited, quiet_s) if replies["ping"] else quiet_s  # noqa: E731
        _drain(connection, satisfied, accounted, gap, window_s, clock)
        # Cancelled only on success: a cancel waits for the broker's reply, and after an error
        # (a stalled broker, the deadline) the connection is dropped anyway.
        consumer.cancel()
    finally:
        # Virtual transports delete the reply queue here; on AMQP it is exclusive and dies with us.
        channel.after_reply_message_received(mailbox.reply_queue.name)
    return _snapshot(replies)


def _drain(
    connection: Connection,
    satisfied: Callable[[], bool],
    accounted: Callable[[], bool],
    gap_after: Callable[[float], float],
    window_s: float,
    clock: Callable[[], float],
) -> None:
    started = clock()
    end = started + window_s
    gap: float | None = None  # the quiet gap, fixed once the expectation is met
    while (left := end - clock()) > 0:
        if gap is None and satisfied():
            gap = gap_after(clock() - started)
        if gap is not None and accounted():
            return
        try:
            connection.drain_events(timeout=left if gap is None else min(gap, left))
        except TimeoutError:
            if gap is not None:
                return


def quiet_gap(waited_s: float, most_s: float) -> float:
    """How long to wait for stragglers once the expected nodes have answered: stragglers answer
    about as fast as those nodes did, so as long again, within [MIN_QUIET_S, most_s]. A fixed
    gap would dominate a fast run and be too short on a slow broker."""
    return min(most_s, max(MIN_QUIET_S, waited_s))


def accounted_for(replies: dict[str, dict[str, Any]], counted: Mapping[str, int]) -> bool:
    """Every consumer the broker counts on these queues belongs to a node that answered (a Celery
    node holds one consumer per queue it consumes)."""
    by_queue = Counter(
        entry.get("name")
        for node in _complete(replies)
        for entry in replies["active_queues"].get(node) or []
        if isinstance(entry, dict)
    )
    return all(by_queue[queue] >= count for queue, count in counted.items())


def _complete(replies: dict[str, dict[str, Any]]) -> set[str]:
    """Nodes that answered every command."""
    answered = [set(by_node) for by_node in replies.values()]
    return set.intersection(*answered) if answered else set()


def _snapshot(replies: dict[str, dict[str, Any]]) -> FleetSnapshot:
    nodes = {}
    for name in replies["ping"]:
        queues = replies["active_queues"].get(name) or []
        registered = replies["registered"].get(name) or []
        nodes[name] = Node(
            name=name,
            queues=frozenset(q["name"] for q in queues if isinstance(q, dict) and "name" in q),
            registered=frozenset(_task_name(entry) for entry in registered),
        )
    return FleetSnapshot(nodes)


def _task_name(entry: str) -> str:
    # `registered` may carry attributes after the name: "scan.vision [rate_limit=10/m]".
    return str(entry).split(" ", 1)[0]
