"""The one exception tree, for runs that cannot go on. Check outcomes are data (CheckResult).

Every error carries the exit code the CLI maps it to and structured fields for the JSON log.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Exit codes are a contract (DESIGN section 5): the Job's podFailurePolicy keys on them."""

    PASSED = 0
    CHECK_FAILED = 1
    BAD_INPUT = 2
    COULD_NOT_RUN = 3
    INTERRUPTED = 4


class SmokeError(Exception):
    exit_code: ExitCode = ExitCode.COULD_NOT_RUN

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def __str__(self) -> str:
        return self.message


class UsageError(SmokeError):
    exit_code = ExitCode.BAD_INPUT


class SuiteError(UsageError):
    """An unusable suite file: names the file, the path inside it and what was expected."""

    def __init__(self, file: str, path: str, problem: str) -> None:
        where = f"{file}: {path}" if path else file
        super().__init__(f"{where}: {problem}", file=file, path=path, problem=problem)
        self.file = file
        self.path = path
        self.problem = problem


class BrokerError(SmokeError):
    """The runner itself could not use the broker (a worker that cannot is a failed check)."""

    exit_code = ExitCode.COULD_NOT_RUN


class BrokerUnreachable(BrokerError):
    pass


class BrokerAccessRefused(BrokerError):
    pass


class VhostMissing(BrokerError):
    pass


class BrokerLost(BrokerError):
    """The runner's connection broke mid-run: what it had not finished is not reported as done."""


class Interrupted(SmokeError):
    exit_code = ExitCode.INTERRUPTED
