"""The demo fleet: real Celery worker processes in the incident's shape (see `smoke demo`)."""
