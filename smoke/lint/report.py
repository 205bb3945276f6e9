"""Findings out: human text, JSON (`celery-smoke/lint/v1`) or SARIF 2.1.0. Always redacted."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from smoke import __version__
from smoke.lint.findings import Finding, Severity
from smoke.redact import redact, redact_text

SCHEMA = "celery-smoke/lint/v1"
FORMATS = ("text", "json", "sarif")


def order(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.file, f.line or 0, f.rule, f.path, f.message))


def counts(findings: Sequence[Finding]) -> dict[str, int]:
    tally = Counter(f.severity.value for f in findings)
    return {severity.value: tally.get(severity.value, 0) for severity in Severity}


def render(
    fmt: str,
    findings: Sequence[Finding],
    documents: int,
    unchecked: Mapping[str, int],
    rules: Sequence[str],
) -> str:
    findings = order(findings)
    if fmt == "json":
        return json.dumps(redact(_json(findings, documents, unchecked, rules)), indent=2)
    if fmt == "sarif":
        return json.dumps(redact(_sarif(findings, rules)), indent=2)
    return redact_text(_text(findings, documents, unchecked))


def _location(finding: Finding) -> str:
    where = finding.file + (f":{finding.line}" if finding.line else "")
    return where + (f" (document {finding.document})" if finding.document is not None else "")


def _text(findings: Sequence[Finding], documents: int, unchecked: Mapping[str, int]) -> str:
    lines: list[str] = []
    for f in findings:
        lines.append(f"{_location(f)}: {f.severity.value} [{f.rule}] {f.message}")
        lines.append(f"    at {f.object}: {f.path}" if f.path else f"    at {f.object}")
        if f.hint:
            lines.append(f"    hint: {f.hint}")
    tally = counts(findings)
    total = ", ".join(f"{n} {severity}{'s' if n != 1 else ''}" for severity, n in tally.items())
    skipped = ", ".join(f"{kind} x{n}" for kind, n in sorted(unchecked.items()))
    tail = f" (kinds not checked: {skipped})" if skipped else ""
    lines.append(f"smoke lint: {total} in {documents} documents{tail}")
    return "\n".join(lines)


def _json(
    findings: Sequence[Finding], documents: int, unchecked: Mapping[str, int], rules: Sequence[str]
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "rules": list(rules),
        "documents": documents,
        "unchecked_kinds": dict(sorted(unchecked.items())),
        "counts": counts(findings),
        "findings": [f.to_dict() for f in findings],
    }


def _sarif(findings: Sequence[Finding], rules: Sequence[str]) -> dict[str, Any]:
    results = []
    for f in findings:
        location: dict[str, Any] = {"artifactLocation": {"uri": f.file}}
        if f.line:
            location["region"] = {"startLine": f.line}
        results.append(
            {
                "ruleId": f.rule,
                "level": f.severity.value,  # SARIF's level names match ours
                "message": {"text": f"{f.message}. Hint: {f.hint}" if f.hint else f.message},
                "locations": [
                    {
                        "physicalLocation": location,
                        "logicalLocations": [{"fullyQualifiedName": f"{f.object}: {f.path}"}],
                    }
                ],
            }
        )
    driver = {
        "name": "celery-smoke",
        "version": __version__,
        "rules": [{"id": rule} for rule in rules],
    }
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
