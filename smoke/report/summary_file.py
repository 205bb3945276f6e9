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
