"""The pod termination message: a compact verdict that `kubectl describe pod` and Argo CD show.

Kubernetes keeps at most 4096 bytes of it, so failed checks are listed until the budget runs out and
the rest are counted ("and N more"). Written only inside a pod (where the kubelet created the file)
unless a path is given.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from smoke.redact import redact_text
from smoke.report.summary_file import write_atomically
from smoke.results import Summary

DEFAULT_PATH = Path("/dev/termination-log")
LIMIT_BYTES = 4096
_LINE_CHARS = 400
_RERUN = "rerun: kubectl create job smoke-$(date +%s) --from=cronjob/celery-smoke -n {namespace}"


def render(summary: Summary, namespace: str = "", limit: int = LIMIT_BYTES) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in summary.counts.items() if n)
    head = [
        f"celery-smoke {summary.suite}: {summary.verdict.value.upper()} ({counts or 'no checks'}) "
        f"in {summary.duration_s:.1f}s, run {summary.run_id}"
    ]
    if summary.context:
        head.append("context: " + " ".join(f"{k}={v}" for k, v in summary.context.items()))
    if summary.error:
        head.append(f"could not run: {summary.error}")
    tail = [_RERUN.format(namespace=namespace or "<namespace>")]
    failures = [f"{c.status.value.upper()} {c.id}: {c.reason}" for c in summary.failures()]
    lines = [_cut(redact_text(line)) for line in head]
    budget = limit - _size(lines + tail) - len(" and 9999 more failed checks\n")
    shown = 0
    for line in (_cut(redact_text(f)) for f in failures):
        if _size([line]) > budget:
            break
        lines.append(line)
        budget -= _size([line])
        shown += 1
    if shown < len(failures):
        lines.append(f"... and {len(failures) - shown} more failed checks")
    return "\n".join(lines + tail) + "\n"


def write(summary: Summary, path: str | None) -> None:
    """`path` None: the default, only where it exists and is writable (the kubelet creates it in a
    pod; elsewhere nothing is written). An explicit path is always written; "" turns it off."""
    if path == "":
        return
    text = render(summary, os.environ.get("POD_NAMESPACE", ""))
    if path is None:
        if os.access(DEFAULT_PATH, os.W_OK):
            # The kubelet's bind-mounted file: write in place (a rename cannot replace a mount).
            with contextlib.suppress(OSError):
                DEFAULT_PATH.write_text(text, encoding="utf-8")
        return
    write_atomically(Path(path), text)


def _size(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


def _cut(line: str) -> str:
    line = " ".join(line.split())  # one check, one line, whatever its reason holds
    return line if len(line) <= _LINE_CHARS else line[: _LINE_CHARS - 3] + "..."
