"""Run a command as a child process and measure what a user waits for: wall time and peak RSS."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    wall_s: float
    rss_mb: float  # the child's peak resident set (ru_maxrss), interpreter and imports included
    exit_code: int
    output: str


def measure(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> Sample:
    started = time.perf_counter()
    process = subprocess.Popen(
        list(argv), env=dict(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    # wait4, not wait: it also returns this one child's rusage (RUSAGE_CHILDREN would mix them).
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stdout.close()
    return Sample(wall, usage.ru_maxrss / 1024, process.returncode, output)


@dataclass(frozen=True)
class Stats:
    median_s: float
    min_s: float
    max_s: float
    rss_mb: float  # the largest peak seen over the repetitions
    n: int

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> Stats:
        walls = [s.wall_s for s in samples]
        return cls(
            statistics.median(walls),
            min(walls),
            max(walls),
            max(s.rss_mb for s in samples),
            len(samples),
        )

    def spread(self) -> str:
        return f"{self.min_s:.3f}-{self.max_s:.3f}"
