"""celery-smoke: a post-deploy smoke test for Celery fleets."""

from typing import Any


def __getattr__(name: str) -> Any:
    # Looked up on demand: importlib.metadata adds ~20 ms to every start-up that never asks.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        try:
            return version("celery-smoke")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0+unknown"
    raise AttributeError(f"module 'smoke' has no attribute {name!r}")
