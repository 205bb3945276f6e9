"""The floor: the smallest Celery client that proves what `smoke run` proves at its core.

One connection, one ping with a known reply limit (so it returns on the last reply instead of
waiting out an idle timeout), one probe canary through one queue and its result from Redis.
Nothing a smoke test can do end to end is faster than this, so it is the benchmark's 1.0x.

    python bench/floor.py BROKER_URL BACKEND_URL NODE[,NODE...] QUEUE
"""

from __future__ import annotations

import sys
import time

from celery import Celery


def main(broker: str, backend: str, nodes: list[str], queue: str) -> int:
    started = time.perf_counter()
    app = Celery("floor", broker=broker, backend=backend, set_as_current=False)
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        replies = app.control.ping(destination=nodes, timeout=2.0, connection=connection)
        answered = {node for reply in replies for node in reply}
        result = app.send_task("smoke.probe", queue=queue, expires=10, connection=connection)
        value = result.get(timeout=10, interval=0.02)
        result.forget()
    ok = answered == set(nodes) and isinstance(value, dict)
    run_s = time.perf_counter() - started  # what follows `import celery`, as smoke's duration_s
    print(f"answered {len(answered)}/{len(nodes)}, probe by {value.get('node')}, run_s={run_s:.4f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]))
