"""What a lint rule reports: one frozen `Finding` per problem, located in a file."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"  # fails the build (exit 1)
    WARNING = "warning"  # reported, does not fail the build


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    file: str
    path: str = ""  # field path inside the document, e.g. spec.template.spec.containers[0].args
    document: int | None = None  # 0-based index of the YAML document in `file`
    line: int | None = None
    hint: str = ""
    object: str = ""  # Kind namespace/name, or the suite entry

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "file": self.file,
            "document": self.document,
            "line": self.line,
            "path": self.path,
            "object": self.object,
        }
