"""What the fleet says about itself: who answered, what each node consumes and has registered.

All three questions (ping, active_queues, registered) go out as broadcasts at once and their replies
are collected on one reply queue. Collection returns as soon as every expected node has answered all
three, plus a quiet gap for stragglers as long as those nodes took (20-100 ms), instead of waiting
out an idle timeout as `celery inspect` does; with no gap at all once the answers account for every
consumer the broker counts. `ask` does the same for any remote-control call (`ask_nodes`: to known
nodes only, returning the moment all of them have answered).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
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
    complete: bool = True  # False: it answered the ping, its other replies missed the window


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
        """Newer answers win, except a partial one over a complete one: a settle's last window
        can be too short for a node's active_queues reply, which does not mean it stopped
        consuming."""
        newer = {
            name: node
            for name, node in other.nodes.items()
            if node.complete or name not in self.nodes
        }
        return FleetSnapshot({**self.nodes, **newer})


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
    replies = ask(
        app,
        connection,
        {command: {} for command in COMMANDS},
        window_s,
        lambda got: expectation.met_by(_complete(got)),
        quiet_s=quiet_s,
        clock=clock,
        accounted=(lambda got: accounted_for(got, counted)) if counted else None,
    )
    return _snapshot(replies)


def ask_nodes(
    app: Celery,
    connection: Connection,
    questions: Mapping[str, Mapping[str, Any]],
    nodes: Collection[str],
    window_s: float,
) -> dict[str, dict[str, Any]]:
    """Ask known nodes only (`destination`); returns the moment every one has answered all."""
    if not nodes:
        return {command: {} for command in questions}
    return ask(
        app,
        connection,
        questions,
        window_s,
        lambda got: set(nodes) <= _complete(got),
        destination=sorted(nodes),
        quiet_s=0.0,
    )


def ask(
    app: Celery,
    connection: Connection,
    questions: Mapping[str, Mapping[str, Any]],
    window_s: float,
    done: Callable[[dict[str, dict[str, Any]]], bool],
    destination: list[str] | None = None,
    quiet_s: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    accounted: Callable[[dict[str, dict[str, Any]]], bool] | None = None,
) -> dict[str, dict[str, Any]]:
    """Send remote-control commands at once and collect their replies (command -> node -> reply)
    on one reply queue until `done` says enough, plus a quiet gap for stragglers that `accounted`
    (nobody else can be out there) cuts short."""
    mailbox = app.control.mailbox(connection)
    channel = connection.default_channel
    tickets = {uuid.uuid4().hex: command for command in questions}
    replies: dict[str, dict[str, Any]] = {command: {} for command in questions}

    def on_reply(body: Any, message: Message) -> None:
        command = tickets.get(message.headers.get("ticket", ""))
        if command is not None and isinstance(body, dict):
            replies[command].update(body)

    consumer = Consumer(channel, [mailbox.reply_queue], accept=["json"], no_ack=True)
    consumer.register_callback(on_reply)
    try:
        consumer.consume()
        for ticket, command in tickets.items():
            mailbox._publish(
                command,
                dict(questions[command]),
                destination=destination,
                reply_ticket=ticket,
                channel=channel,
                timeout=window_s,
            )

        def gap_after(waited_s: float) -> float:
            # Met before anyone answered (nothing expected): no answer to measure the gap against.
            answered = any(replies.values())
            return quiet_gap(waited_s, quiet_s) if answered and quiet_s > 0 else quiet_s

        _drain(
            connection,
            lambda: done(replies),
            lambda: accounted is not None and accounted(replies),
            gap_after,
            window_s,
            clock,
        )
        # Cancelled only on success: a cancel waits for the broker's reply, and after an error
        # (a stalled broker, the deadline) the connection is dropped anyway.
        consumer.cancel()
    finally:
        # Virtual transports delete the reply queue here; on AMQP it is exclusive and dies with us.
        channel.after_reply_message_received(mailbox.reply_queue.name)
    return replies


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
        if gap is not None and (gap <= 0 or accounted()):
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
            complete=name in replies["active_queues"] and name in replies["registered"],
            queues=frozenset(q["name"] for q in queues if isinstance(q, dict) and "name" in q),
            registered=frozenset(_task_name(entry) for entry in registered),
        )
    return FleetSnapshot(nodes)


def _task_name(entry: str) -> str:
    # `registered` may carry attributes after the name: "scan.vision [rate_limit=10/m]".
    return str(entry).split(" ", 1)[0]
