from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from smoke.report import jsonlines
from tests.support import slack_server


@pytest.fixture
def slack() -> Iterator[slack_server.FakeSlack]:
    with slack_server.running() as fake:
        yield fake


@pytest.fixture
def log() -> io.StringIO:
    """Everything the structlog logger writes during the test."""
    stream = io.StringIO()
    jsonlines.configure(stream)
    return stream


@dataclass
class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
