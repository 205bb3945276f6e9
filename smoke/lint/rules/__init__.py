"""The rule registry: stable id -> function from the lint context to findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from smoke.lint.context import LintContext
from smoke.lint.findings import Finding
from smoke.lint.rules import credentials, env_names, hook_job, queues

Rule = Callable[[LintContext], Iterable[Finding]]

RULES: dict[str, Rule] = {
    credentials.RULE: credentials.check,
    env_names.RULE: env_names.check,
    queues.RULE: queues.check,
    queues.NAMING_RULE: queues.check_naming,
    hook_job.RULE: hook_job.check,
}
# Policy rules some teams do not follow: run only when enabled.
OPT_IN = frozenset({queues.NAMING_RULE})


def selected(enable: Iterable[str], disable: Iterable[str]) -> list[str]:
    """Default rules plus `enable`, minus `disable` (disable wins)."""
    wanted = (set(RULES) - OPT_IN) | set(enable)
    return [rule for rule in RULES if rule in wanted and rule not in set(disable)]
