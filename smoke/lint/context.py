"""What every rule reads: the suite, the manifests, and what `--code` found."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from smoke.lint.code import PrefixSite, sites_for
from smoke.lint.findings import Finding, Severity
from smoke.lint.manifests import Document
from smoke.lint.objects import Keys, find_workload, key_index
from smoke.suite import Suite, Worker


@dataclass(frozen=True)
class LintContext:
    suite: Suite
    suite_file: str
    suite_lines: Mapping[str, int]
    documents: tuple[Document, ...]
    prefix_sites: tuple[PrefixSite, ...] = ()

    def workload_for(self, worker: Worker) -> Document | None:
        if worker.kubernetes is not None:
            ref = worker.kubernetes
            return find_workload(self.documents, ref.deployment, ref.namespace)
        return find_workload(self.documents, worker.name, None)

    def expected_workload(self, worker: Worker) -> str:
        ref = worker.kubernetes
        return f"{ref.namespace}/{ref.deployment}" if ref else worker.name

    def code_prefixes(self, worker: Worker) -> tuple[PrefixSite, ...]:
        names = [worker.name] + ([worker.kubernetes.deployment] if worker.kubernetes else [])
        return sites_for(list(self.prefix_sites), *names)

    @cached_property
    def keys(self) -> dict[tuple[str, str | None, str], Keys]:
        return key_index(self.documents)

    def suite_finding(
        self, rule: str, severity: Severity, message: str, path: str, *, hint: str, subject: str
    ) -> Finding:
        line = self.suite_lines.get(path)
        return Finding(rule, severity, message, self.suite_file, path, None, line, hint, subject)
