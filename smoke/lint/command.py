"""`smoke lint` end to end: load the suite, manifests and code, run the selected rules, render."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO

import yaml

from smoke.errors import ExitCode
from smoke.lint.code import find_env_prefixes
from smoke.lint.context import LintContext
from smoke.lint.findings import Finding, Severity
from smoke.lint.manifests import load_manifests, record_lines
from smoke.lint.report import render
from smoke.lint.rules import RULES, selected
from smoke.suite import load_suite

# The kinds some rule reads; the rest are counted in the report as not checked.
CHECKED_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"}
    | {"Secret", "ConfigMap", "ExternalSecret"}
)


class _Unexpanded(Mapping[str, str]):
    """Lint needs no broker: a `${VAR}` the environment lacks stays as written, not an error."""

    def __getitem__(self, name: str) -> str:
        return os.environ.get(name, f"${{{name}}}")

    def __iter__(self) -> Iterator[str]:
        return iter(os.environ)

    def __len__(self) -> int:
        return len(os.environ)


def run_lint(
    suite_file: str,
    paths: Sequence[str],
    *,
    code_dir: str | None,
    enable: Sequence[str],
    disable: Sequence[str],
    fmt: str,
    stdin: TextIO,
) -> tuple[str, ExitCode]:
    suite = load_suite(suite_file, environ=_Unexpanded())
    documents = load_manifests(paths, stdin)
    lines: dict[str, int] = {}
    node = yaml.compose(Path(suite_file).read_text(encoding="utf-8"))
    if node is not None:  # load_suite accepted the file, so it is a mapping
        record_lines(node, "", lines)
    ctx = LintContext(
        suite=suite,
        suite_file=suite_file,
        suite_lines=lines,
        documents=documents,
        prefix_sites=tuple(find_env_prefixes(Path(code_dir))) if code_dir else (),
    )
    rules = selected([*suite.lint.enable, *enable], [*suite.lint.disable, *disable])
    findings: list[Finding] = [f for rule in rules for f in RULES[rule](ctx)]
    unchecked = Counter(doc.kind for doc in documents if doc.kind not in CHECKED_KINDS)
    output = render(fmt, findings, len(documents), unchecked, rules)
    failed = any(f.severity is Severity.ERROR for f in findings)
    return output, ExitCode.CHECK_FAILED if failed else ExitCode.PASSED
