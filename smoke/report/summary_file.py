"""`--summary PATH`: the JSON summary (schema celery-smoke/summary/v1), written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from smoke.errors import UsageError
from smoke.redact import redact
from smoke.results import Summary


def write(summary: Summary, path: str | Path) -> None:
    text = json.dumps(redact(summary.to_dict()), indent=2, default=str) + "\n"
    write_atomically(Path(path), text)


def write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}", path=str(path)) from None


def check_writable(path: str | Path) -> None:
    """Refuse before the run a path a report could never be written to (exit 2)."""
    target = Path(path)
    problem = ""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            problem = "is a directory"
        elif not os.access(target.parent, os.W_OK | os.X_OK):
            problem = "permission denied"
    except OSError as exc:
        problem = exc.strerror or str(exc)
    if problem:
        raise UsageError(f"cannot write {target}: {problem}", path=str(target))
