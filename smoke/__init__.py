"""celery-smoke: a post-deploy smoke test for Celery fleets."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("celery-smoke")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
