"""Kubernetes YAML in: files, directories and stdin (`-`), each document kept with its origin.

Every document remembers its file, its index in that file and the line of each field, so a
finding can point at `file:line` and a field path. Input that is not YAML or not a Kubernetes
object is bad input (`ManifestError`, exit 2), never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

from smoke.errors import UsageError
from smoke.lint.findings import Finding, Severity

STDIN = "-"
STDIN_NAME = "<stdin>"
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")
_MISSING = object()
_MAX_DEPTH = 64  # deeper than any manifest; stops recursive YAML aliases


class ManifestError(UsageError):
    def __init__(self, file: str, where: str, problem: str) -> None:
        super().__init__(f"{file}: {where}: {problem}" if where else f"{file}: {problem}")


def field_path(parent: str, key: str | int) -> str:
    """('spec', 'containers') -> 'spec.containers'; keys with dots or slashes are bracketed."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if not _PLAIN_KEY.match(key):
        return f'{parent}["{key}"]'
    return f"{parent}.{key}" if parent else key


@dataclass(frozen=True)
class Document:
    file: str
    index: int
    data: Mapping[str, Any]
    lines: Mapping[str, int]

    @property
    def kind(self) -> str:
        return str(self.data["kind"])

    @property
    def name(self) -> str:
        return str(self.get("metadata", "name", default=""))

    @property
    def namespace(self) -> str | None:
        namespace = self.get("metadata", "namespace")
        return str(namespace) if namespace else None

    @property
    def label(self) -> str:
        return (
            f"{self.kind} {self.namespace}/{self.name}"
            if self.namespace
            else f"{self.kind} {self.name}"
        )

    def get(self, *keys: str | int, default: Any = None) -> Any:
        """Nested lookup that tolerates missing or wrongly typed levels."""
        value: Any = self.data
        for key in keys:
            if isinstance(value, Mapping) and isinstance(key, str):
                value = value.get(key, _MISSING)
            elif isinstance(value, list) and isinstance(key, int):
                value = value[key] if -len(value) <= key < len(value) else _MISSING
            else:
                return default
            if value is _MISSING:
                return default
        return value

    def line_of(self, path: str) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = re.sub(r"(\.[^.\[]*|\[[^\]]*\])$", "", path)
        return self.lines.get("")

    def finding(
        self, rule: str, severity: Severity, message: str, path: str = "", hint: str = ""
    ) -> Finding:
        return Finding(
            rule=rule,
            severity=severity,
            message=message,
            file=self.file,
            path=path,
            document=self.index,
            line=self.line_of(path),
            hint=hint,
            object=self.label,
        )


def load_manifests(paths: Sequence[str], stdin: TextIO) -> tuple[Document, ...]:
    documents: list[Document] = []
    for name, text in _sources(paths, stdin):
        documents.extend(parse_documents(text, name))
    if not documents:
        raise ManifestError(", ".join(paths), "", "no Kubernetes documents found")
    return tuple(documents)


def _sources(paths: Sequence[str], stdin: TextIO) -> Iterator[tuple[str, str]]:
    for path in paths:
        if path == STDIN:
            yield STDIN_NAME, stdin.read()
            continue
        root = Path(path)
        if root.is_dir():
            files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))
        elif root.exists():
            files = [root]
        else:
            raise ManifestError(path, "", "no such file or directory")
        for file in files:
            try:
                yield str(file), file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ManifestError(str(file), "", f"cannot read: {exc.strerror or exc}") from None
            except UnicodeDecodeError:
                raise ManifestError(str(file), "", "not UTF-8 text") from None


def parse_documents(text: str, file: str) -> list[Document]:
    loader = yaml.SafeLoader(text)
    documents: list[Document] = []
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            data = loader.construct_document(node) if node is not None else None
            if node is not None and data is not None:
                documents.append(_document(file, index, node, data))
            index += 1
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ManifestError(file, where, f"invalid YAML: {problem}") from None
    except RecursionError:
        raise ManifestError(file, f"document {index}", "YAML nests too deeply") from None
    finally:
        loader.dispose()
    return documents


def _document(file: str, index: int, node: yaml.Node, data: Any) -> Document:
    where = f"document {index} (line {node.start_mark.line + 1})"
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        raise ManifestError(file, where, "not a Kubernetes object (expected a mapping with `kind`)")
    if not isinstance(data.get("apiVersion"), str):
        raise ManifestError(file, where, f"{data['kind']} has no `apiVersion`")
    lines: dict[str, int] = {}
    record_lines(node, "", lines)
    return Document(file=file, index=index, data=data, lines=lines)


def record_lines(node: yaml.Node, path: str, out: dict[str, int], depth: int = 0) -> None:
    """Field path -> 1-based line of its key (or item), for every field under `node`."""
    out.setdefault(path, node.start_mark.line + 1)
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = field_path(path, str(key.value))
                out.setdefault(child, key.start_mark.line + 1)
                record_lines(value, child, out, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            record_lines(item, field_path(path, i), out, depth + 1)
