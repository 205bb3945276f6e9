"""The suite file (DESIGN section 3): YAML -> validated, immutable `Suite`.

Field names are a user-facing contract. Every error names the file, the path inside it and what
was expected, and is raised as `SuiteError` (exit 2).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from smoke.durations import Duration
from smoke.errors import SuiteError

# `${VAR}` must be set; `${VAR:-fallback}` may not be (as in the shell).
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_NAME = r"^[A-Za-z0-9_.@:*\-]+$"
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"

EnvName = Annotated[str, Field(pattern=_ENV_NAME)]
# Stable ids of `smoke lint` rules: users disable them by these names, so they are a contract.
LintRuleId = Literal[
    "broker-credential-drift",
    "env-name-mismatch",
    "queue-coverage",
    "task-queue-naming",
    "hook-job",
]
# How a canary is verified (docs/events.md): its result read back, the worker's task events, or
# whichever the consuming nodes make possible.
Verify = Literal["result", "events", "auto"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KubernetesRef(_Model):
    namespace: str = Field(min_length=1)
    deployment: str = Field(min_length=1)


class Worker(_Model):
    name: str = Field(min_length=1, pattern=_NAME)
    nodes: str = Field(default="", description="fnmatch pattern on Celery node names")
    min_nodes: int = Field(default=1, ge=1)
    queues: tuple[str, ...] = Field(min_length=1)
    tasks: tuple[str, ...] = ()
    kubernetes: KubernetesRef | None = None
    # What the worker's settings read, for `smoke lint`: names without the prefix, and the
    # pydantic-settings `env_prefix` the settings put in front of them.
    env: tuple[EnvName, ...] = ()
    env_prefix: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]*$")

    @model_validator(mode="after")
    def _default_nodes(self) -> Worker:
        if not self.nodes:
            # Kubernetes pods get `celery@<pod name>` and pods are named `<deployment>-<hash>`.
            object.__setattr__(self, "nodes", f"celery@{self.name}-*")
        return self


class Canary(_Model):
    queue: str = Field(min_length=1)
    task: str | None = None
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = Field(default_factory=dict)
    expect: dict[str, Any] | None = None
    timeout: Duration = 30.0
    id: str | None = Field(default=None, min_length=1, pattern=_NAME)
    verify: Verify | None = None  # default: the suite's

    @model_validator(mode="after")
    def _probe_takes_no_arguments(self) -> Canary:
        if self.task is None and (self.args or self.kwargs or self.expect is not None):
            raise ValueError("args, kwargs and expect need `task:` (a probe canary takes none)")
        return self

    @property
    def check_id(self) -> str:
        return f"canary:{self.id or self.queue}"


class LintSettings(_Model):
    disable: tuple[LintRuleId, ...] = ()
    enable: tuple[LintRuleId, ...] = ()  # opt-in rules, e.g. task-queue-naming


class Suite(_Model):
    suite: str = Field(min_length=1)
    broker: str | None = None
    result_backend: str | None = None
    deadline: Duration = 120.0
    settle: Duration = 60.0
    verify: Verify = "auto"
    context: dict[str, str] = Field(default_factory=dict)
    workers: tuple[Worker, ...] = ()
    canaries: tuple[Canary, ...] = ()
    lint: LintSettings = Field(default_factory=LintSettings)

    @field_validator("context", mode="before")
    @classmethod
    def _labels_as_text(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(key): str(item) for key, item in value.items()}
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Suite:
        if self.settle > self.deadline:
            raise ValueError(
                f"settle ({self.settle:g}s) must not exceed deadline ({self.deadline:g}s)"
            )
        if not self.workers and not self.canaries:
            raise ValueError("a suite needs at least one worker or canary")
        _reject_duplicates(
            "workers", [(f"workers[{i}]", w.name) for i, w in enumerate(self.workers)]
        )
        _reject_duplicates(
            "canaries", [(f"canaries[{i}]", c.check_id) for i, c in enumerate(self.canaries)]
        )
        _reject_duplicates(
            "tasks",
            [(f"workers[{i}].tasks", t) for i, w in enumerate(self.workers) for t in w.tasks],
        )
        return self

    def queues(self) -> tuple[str, ...]:
        """Every queue the suite names, workers' first, in file order, once each."""
        names = [q for w in self.workers for q in w.queues] + [c.queue for c in self.canaries]
        return tuple(dict.fromkeys(names))

    def verify_of(self, canary: Canary) -> Verify:
        return canary.verify or self.verify


def _reject_duplicates(what: str, entries: list[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for where, key in entries:
        if key in seen:
            hint = " (give one of them a distinct `id:`)" if what == "canaries" else ""
            raise ValueError(f"{seen[key]} and {where} both produce {key!r}{hint}")
        seen[key] = where


def load_suite(path: str | Path, environ: Mapping[str, str] | None = None) -> Suite:
    """Read, expand `${VAR}` and validate a suite file."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(file, "", f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SuiteError(file, "", "not UTF-8 text") from None
    return parse_suite(text, file, os.environ if environ is None else environ)


def parse_suite(text: str, file: str, environ: Mapping[str, str]) -> Suite:
    try:
        return _parse(text, file, environ)
    except RecursionError:
        raise SuiteError(file, "", "nested too deeply, or an alias refers to itself") from None


def _parse(text: str, file: str, environ: Mapping[str, str]) -> Suite:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise SuiteError(file, where, f"invalid YAML: {problem}") from None
    except ValueError as exc:  # a value YAML recognises but cannot build, e.g. 2024-13-01
        raise SuiteError(file, "", f"invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SuiteError(file, "", "expected a mapping at the top level (suite:, workers:, ...)")
    expanded = _expand(data, "", file, environ)
    try:
        return Suite.model_validate(expanded)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        raise SuiteError(file, format_location(error["loc"]), _describe(error)) from None


def _expand(value: Any, path: str, file: str, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, fallback = match.group(1), match.group(2)
            if name not in environ:
                if fallback is not None:
                    return fallback
                raise SuiteError(file, path, f"environment variable {name} is not set")
            return environ[name]

        return _ENV_REF.sub(substitute, value)
    if isinstance(value, dict):
        return {
            key: _expand(item, f"{path}.{key}" if path else str(key), file, environ)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_expand(item, f"{path}[{i}]", file, environ) for i, item in enumerate(value)]
    return value


def format_location(loc: tuple[int | str, ...]) -> str:
    """('workers', 2, 'queues') -> 'workers[2].queues'."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _describe(error: Mapping[str, Any]) -> str:
    message = str(error["msg"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown field (check its spelling against the suite format)"
    if kind == "missing":
        return "required field is missing"
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    # Users write YAML lists; pydantic speaks of the tuples we store them in.
    message = message.replace("valid tuple", "list").replace("valid dictionary", "mapping")
    return f"{message[0].lower()}{message[1:]}"
