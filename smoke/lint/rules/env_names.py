"""env-name-mismatch: the Deployment injects every environment name the worker's settings read.

The incident: scan-worker's settings had `env_prefix="SCAN_WORKER_"` and so read
`SCAN_WORKER_CELERY_BROKER_URL`, while the Deployment injected `CELERY_BROKER_URL`.
A worker's suite entry says what it reads (`env:` and `env_prefix:`); `--code` finds the
`env_prefix` in the worker's Python sources, which wins over the suite because it is what runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from smoke.lint.context import LintContext
from smoke.lint.findings import Finding, Severity
from smoke.lint.manifests import Document, field_path
from smoke.lint.objects import Container, lookup_keys, worker_container

RULE = "env-name-mismatch"


@dataclass
class _Injected:
    names: set[str] = field(default_factory=set)
    unseen: list[str] = field(default_factory=list)  # envFrom sources whose keys we cannot see


def check(ctx: LintContext) -> Iterator[Finding]:
    for i, worker in enumerate(ctx.suite.workers):
        doc = ctx.workload_for(worker)
        container = worker_container(doc) if doc is not None else None
        if doc is None or container is None:
            continue  # a missing Deployment is queue-coverage's finding
        yield from _missing_secret_keys(ctx, doc, container)
        sites = ctx.code_prefixes(worker)
        prefixes = {site.prefix for site in sites}
        if len(prefixes) > 1:
            listed = ", ".join(f"{s.prefix!r} at {s.where}" for s in sites)
            yield ctx.suite_finding(
                RULE,
                Severity.WARNING,
                f"worker {worker.name}: several env_prefix values in its code: {listed}",
                f"workers[{i}]",
                hint="declare the one its settings use as `env_prefix:` in the suite",
                subject=f"worker {worker.name}",
            )
        if len(prefixes) == 1:
            prefix, source = sites[0].prefix, f"env_prefix {sites[0].prefix!r} at {sites[0].where}"
        else:
            prefix, source = (
                worker.env_prefix or "",
                f"env_prefix {worker.env_prefix!r} in the suite",
            )
        injected = _injected(ctx, doc, container)
        yield from _check_names(doc, container, injected, (prefix, worker.env), source=source)


def _check_names(
    doc: Document,
    container: Container,
    injected: _Injected,
    read: tuple[str, tuple[str, ...]],
    *,
    source: str,
) -> Iterator[Finding]:
    """`read` is the settings' (env_prefix, names); one finding per kind of miss."""
    prefix, names = read
    unprefixed: list[str] = []  # injected as NAME while the settings read PREFIX + NAME
    near: dict[str, list[str]] = {}  # read name -> similar injected names
    absent: list[str] = []
    for name in names:
        wanted = f"{prefix}{name}"
        if wanted in injected.names:
            continue
        similar = sorted(
            n for n in injected.names if n.endswith(name) or n.lower() == wanted.lower()
        )
        if prefix and name in injected.names:
            unprefixed.append(name)
        elif similar:
            near[wanted] = similar
        else:
            absent.append(wanted)
    where = f"{container.path}.env"
    reads = f"container {container.name!r} does not inject what the settings read:"
    if unprefixed:
        prefixed = ", ".join(prefix + name for name in unprefixed)
        yield doc.finding(
            RULE,
            Severity.ERROR,
            f"{reads} {prefixed} ({source}); it injects {', '.join(unprefixed)}",
            where,
            f"the settings' env_prefix {prefix!r} renames every variable: remove env_prefix "
            f"from the settings, or inject the prefixed names",
        )
    if near:
        pairs = "; ".join(f"{name} (it injects {', '.join(n)})" for name, n in near.items())
        yield doc.finding(
            RULE,
            Severity.ERROR,
            f"{reads} {pairs}",
            where,
            "names must match exactly: rename the env entries, or change the settings' "
            "env_prefix to match what the Deployment injects",
        )
    if absent and injected.unseen:
        yield doc.finding(
            RULE,
            Severity.WARNING,
            f"{reads} {', '.join(absent)}, unless {', '.join(injected.unseen)} "
            "(not in these manifests) has them",
            where,
            "lint these manifests together with that Secret or ConfigMap, or inject them in env",
        )
    elif absent:
        yield doc.finding(
            RULE,
            Severity.ERROR,
            f"{reads} {', '.join(absent)}",
            where,
            "add them to env (e.g. from the worker's Secret)",
        )


def _injected(ctx: LintContext, doc: Document, container: Container) -> _Injected:
    injected = _Injected()
    for item in _items(container.data.get("env")):
        injected.names.add(str(item.get("name", "")))
    for item in _items(container.data.get("envFrom")):
        prefix = str(item.get("prefix", ""))
        for ref_field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
            ref = item.get(ref_field)
            if not isinstance(ref, Mapping):
                continue
            keys = lookup_keys(ctx.keys, kind, doc.namespace, str(ref.get("name", "")))
            if keys is not None:
                injected.names.update(prefix + key for key in keys.names)
            if keys is None or not keys.complete:
                injected.unseen.append(f"{kind} {ref.get('name', '')}")
    return injected


def _missing_secret_keys(
    ctx: LintContext, doc: Document, container: Container
) -> Iterator[Finding]:
    """`secretKeyRef`/`configMapKeyRef` to a key the visible Secret/ConfigMap does not have."""
    for i, item in enumerate(_items(container.data.get("env"))):
        for ref_field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
            ref = (
                item.get("valueFrom", {}).get(ref_field)
                if isinstance(item.get("valueFrom"), Mapping)
                else None
            )
            if not isinstance(ref, Mapping) or ref.get("optional") is True:
                continue
            keys = lookup_keys(ctx.keys, kind, doc.namespace, str(ref.get("name", "")))
            key = str(ref.get("key", ""))
            if keys is not None and keys.complete and key not in keys.names:
                yield doc.finding(
                    RULE,
                    Severity.ERROR,
                    f"env {item.get('name')} reads key {key!r} of {kind} {ref.get('name')}, "
                    f"which has only {', '.join(sorted(keys.names)) or 'no keys'}",
                    field_path(f"{container.path}.env", i),
                    "fix the key on one side: the pod cannot start (CreateContainerConfigError)",
                )


def _items(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []
