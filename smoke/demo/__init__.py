"""The demo fleet: real Celery worker processes in the incident's shape (see `smoke demo`)."""

# The names alone, so that the CLI can offer them without importing the fleet (Celery apps,
# pydantic-settings) on every `smoke run`. tests/demo checks they match scenarios.SCENARIOS.
SCENARIO_NAMES = (
    "healthy",
    "wrong-credentials",
    "env-prefix",
    "missing-queue",
    "route-mismatch",
    "slow-worker",
)
