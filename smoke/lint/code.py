"""pydantic-settings `env_prefix` values in Python sources, found by parsing (never importing).

Recognised: `SettingsConfigDict(env_prefix="X")` (any call's keyword), `{"env_prefix": "X"}`,
class keywords `class S(BaseSettings, env_prefix="X")`, and pydantic v1's
`class Config: env_prefix = "X"`.
A file that does not parse is skipped: its own CI reports that.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_KEY = "env_prefix"


@dataclass(frozen=True)
class PrefixSite:
    prefix: str
    file: str
    line: int
    parts: tuple[str, ...]  # the file's path below the code root, to match a worker by directory

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def find_env_prefixes(root: Path) -> list[PrefixSite]:
    sites: list[PrefixSite] = []
    for file in sorted(root.rglob("*.py")):
        try:
            tree = ast.parse(file.read_bytes(), filename=str(file))
        except (SyntaxError, ValueError, OSError):
            continue
        parts = file.relative_to(root).parts
        sites.extend(PrefixSite(prefix, str(file), line, parts) for prefix, line in _prefixes(tree))
    return sites


def _prefixes(tree: ast.AST) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == _KEY:
            value: ast.expr | None = node.value
        elif isinstance(node, ast.Dict):
            value = next(
                (v for k, v in zip(node.keys, node.values, strict=True) if _is_key(k)), None
            )
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == _KEY for t in node.targets
        ):
            value = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            value = node.value if node.target.id == _KEY else None
        else:
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            yield value.value, value.lineno


def _is_key(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value == _KEY


def sites_for(sites: list[PrefixSite], *names: str) -> tuple[PrefixSite, ...]:
    """Sites under a directory named like the worker or its Deployment (`scan-worker` ->
    `scan_worker`)."""
    wanted = {name.replace("-", "_").lower() for name in names}
    return tuple(
        site
        for site in sites
        if wanted & {part.lower().replace("-", "_") for part in site.parts[:-1]}
    )
