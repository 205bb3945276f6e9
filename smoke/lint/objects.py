"""Reading Kubernetes objects: pod templates, containers, their command lines, Secret keys."""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smoke.lint.manifests import Document, field_path

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
_POD_SPEC = {
    "Deployment": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "Job": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
    "Pod": "spec",
}
_CELERY = re.compile(r"(^|[/\s])celery($|\s)")


@dataclass(frozen=True)
class Container:
    path: str  # e.g. spec.template.spec.containers[0]
    data: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.data.get("name", ""))

    def command_line(self) -> list[str]:
        """command + args as argv, with the script of `sh -c "celery ... -Q a,b"` split too.

        Kubernetes runs argv without a shell, so only a `-c` script is split into words.
        """
        raw: list[str] = []
        for part in ("command", "args"):
            items = self.data.get(part)
            raw.extend(str(item) for item in (items if isinstance(items, list) else ()))
        tokens: list[str] = []
        for previous, token in zip(["", *raw], raw, strict=False):
            if previous == "-c" and any(space in token for space in " \t\n"):
                try:
                    tokens.extend(shlex.split(token))
                except ValueError:  # unbalanced quotes: keep the words we can see
                    tokens.extend(token.split())
            else:
                tokens.append(token)
        return tokens


def containers(doc: Document, *, init: bool = False) -> list[Container]:
    spec_path = _POD_SPEC.get(doc.kind)
    if spec_path is None:
        return []
    keys = spec_path.split(".")
    groups = ("initContainers", "containers") if init else ("containers",)
    found: list[Container] = []
    for group in groups:
        items = doc.get(*keys, group)
        for i, item in enumerate(items if isinstance(items, list) else ()):
            if isinstance(item, Mapping):
                found.append(Container(field_path(f"{spec_path}.{group}", i), item))
    return found


def worker_container(doc: Document) -> Container | None:
    """The container that runs Celery: the first that mentions `celery`, else the first one."""
    candidates = containers(doc)
    for container in candidates:
        if any(_CELERY.search(token) for token in container.command_line()):
            return container
    return candidates[0] if candidates else None


def workloads(documents: Sequence[Document]) -> Iterator[Document]:
    return (doc for doc in documents if doc.kind in WORKLOAD_KINDS)


def find_workload(
    documents: Sequence[Document], name: str, namespace: str | None
) -> Document | None:
    """A workload by name; namespaces must agree only where both sides state one."""
    for doc in workloads(documents):
        if doc.name == name and (doc.namespace is None or namespace in (None, doc.namespace)):
            return doc
    return None


@dataclass(frozen=True)
class Keys:
    """The keys of a Secret or ConfigMap; `complete` is False when some come from elsewhere."""

    names: frozenset[str]
    complete: bool


def key_index(documents: Sequence[Document]) -> dict[tuple[str, str | None, str], Keys]:
    """(`Secret`|`ConfigMap`, namespace, name) -> keys, for Secrets, ConfigMaps, ExternalSecrets."""
    index: dict[tuple[str, str | None, str], Keys] = {}
    for doc in documents:
        if doc.kind in ("Secret", "ConfigMap"):
            names = {
                str(k) for part in ("data", "stringData", "binaryData") for k in _keys(doc, part)
            }
            index[(doc.kind, doc.namespace, doc.name)] = Keys(frozenset(names), complete=True)
        elif doc.kind == "ExternalSecret":
            target = doc.get("spec", "target", "name") or doc.name
            template = doc.get("spec", "target", "template", "data")
            if isinstance(template, Mapping):
                names = {str(k) for k in template}
            else:
                items = doc.get("spec", "data")
                names = {
                    str(item["secretKey"])
                    for item in (items if isinstance(items, list) else ())
                    if isinstance(item, Mapping) and "secretKey" in item
                }
            # dataFrom pulls keys we cannot see from here.
            complete = not doc.get("spec", "dataFrom") and not doc.get(
                "spec", "target", "template", "templateFrom"
            )
            index[("Secret", doc.namespace, str(target))] = Keys(frozenset(names), complete)
    return index


def lookup_keys(
    index: Mapping[tuple[str, str | None, str], Keys], kind: str, namespace: str | None, name: str
) -> Keys | None:
    if (kind, namespace, name) in index:
        return index[(kind, namespace, name)]
    for (k, ns, n), keys in index.items():
        if k == kind and n == name and (ns is None or namespace is None):
            return keys
    return None


def _keys(doc: Document, part: str) -> Mapping[str, Any]:
    value = doc.get(part)
    return value if isinstance(value, Mapping) else {}


def string_values(doc: Document) -> Iterator[tuple[str, str, str]]:
    """Every (path, key, text) a pod could see as configuration: env literals, Secret and
    ConfigMap data (base64 decoded), ExternalSecret templates."""
    if doc.kind in ("Secret", "ConfigMap"):
        for key, value in _keys(doc, "stringData").items():
            yield field_path("stringData", str(key)), str(key), str(value)
        for key, value in _keys(doc, "data").items():
            text = _decode(value) if doc.kind == "Secret" else str(value)
            if text is not None:
                yield field_path("data", str(key)), str(key), text
    elif doc.kind == "ExternalSecret":
        template = doc.get("spec", "target", "template", "data")
        for key, value in (template if isinstance(template, Mapping) else {}).items():
            yield field_path("spec.target.template.data", str(key)), str(key), str(value)
    for container in containers(doc, init=True):
        env = container.data.get("env")
        for i, item in enumerate(env if isinstance(env, list) else ()):
            if isinstance(item, Mapping) and isinstance(item.get("value"), str):
                path = field_path(field_path(f"{container.path}.env", i), "value")
                yield path, str(item.get("name", "")), item["value"]


def _decode(value: Any) -> str | None:
    try:
        return base64.b64decode(str(value), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
