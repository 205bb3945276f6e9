"""broker-credential-drift: every URL for one broker must name the same user, port and vhost.

The incident: three ExternalSecrets said `amqp://rabbitmq:...` where every other service said
`amqp://admin:...`, so users-worker never connected. The majority is taken as right; where there
is no majority every source is reported. Passwords are never read into a finding.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from smoke.lint.brokers import BrokerURL, BrokerURLError, broker_urls
from smoke.lint.context import LintContext
from smoke.lint.findings import Finding, Severity
from smoke.lint.manifests import Document
from smoke.lint.objects import string_values

RULE = "broker-credential-drift"
_COMPARED = ("user", "port", "vhost")
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class _Source:
    doc: Document
    path: str
    key: str  # the env or Secret key the URL sits under
    url: BrokerURL

    @property
    def where(self) -> str:
        return f"{self.doc.file} ({self.doc.label})"


def check(ctx: LintContext) -> Iterator[Finding]:
    sources: list[_Source] = []
    for doc in ctx.documents:
        for path, key, text in string_values(doc):
            try:
                sources.extend(
                    _Source(doc, path, key, url) for url in broker_urls(text, doc.namespace)
                )
            except BrokerURLError as exc:
                yield doc.finding(RULE, Severity.ERROR, f"broker URL under {key}: {exc}", path)
    known = [s for s in sources if s.url.service is not None]
    for (_, service), group in _group(known, lambda s: (s.url.family, s.url.service)).items():
        for attribute in _COMPARED:
            yield from _odd_ones(group, attribute, f"broker {service}", Severity.ERROR)
    # One setting pointing at different brokers is suspicious, but fleets may have two brokers.
    for (_, key), group in _group(known, lambda s: (s.url.family, s.key)).items():
        yield from _odd_ones(group, "service", f"setting {key}", Severity.WARNING)


def _group(sources: Iterable[_Source], key: Callable[[_Source], K]) -> dict[K, list[_Source]]:
    groups: dict[K, list[_Source]] = defaultdict(list)
    for source in sources:
        groups[key(source)].append(source)
    return groups


def _odd_ones(
    group: list[_Source], attribute: str, subject: str, severity: Severity
) -> Iterator[Finding]:
    values = [s for s in group if getattr(s.url, attribute) is not None]
    tally = Counter(getattr(s.url, attribute) for s in values)
    if len(tally) < 2:
        return
    ranked = tally.most_common()
    majority = ranked[0][0] if ranked[0][1] > ranked[1][1] else None
    summary = ", ".join(f"{value!r} ({count})" for value, count in ranked)
    for source in values:
        value = getattr(source.url, attribute)
        if value == majority:
            continue
        if majority is None:
            message = (
                f"{subject}: sources disagree on {attribute}: {summary} ({source.url.display()})"
            )
            hint = f"pick one {attribute} for {subject} and use it in every source"
        else:
            agreeing = [s.where for s in values if getattr(s.url, attribute) == majority]
            message = (
                f"{subject}: {attribute} {value!r} differs from {majority!r} used by "
                f"{len(agreeing)} other sources ({source.url.display()})"
            )
            hint = (
                f"use {attribute} {majority!r} as in {_first(agreeing)}; better, template every "
                f"broker URL from one shared variable"
            )
        yield source.doc.finding(RULE, severity, message, source.path, hint)


def _first(places: list[str], shown: int = 1) -> str:
    more = len(places) - shown
    return ", ".join(places[:shown]) + (f" and {more} more" if more > 0 else "")
