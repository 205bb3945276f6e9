"""Secrets never leave the process: every URL is masked before it is printed, logged or posted."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "**"

# scheme://user:password@host — the secret runs from the first ':' after '//' to the LAST '@' before
# the host, because hand-written URLs often carry an unescaped '@' in the password.
_CREDENTIALS = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<secret>[^\s/]+)@")
# Slack incoming webhooks carry their secret in the path.
_SLACK_HOOK = re.compile(r"(https://hooks\.slack\.com/services/)[A-Za-z0-9/_\-]+")
_SLACK_TOKEN = re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]+")


def mask_url(url: str) -> str:
    """`amqp://admin:secret@host:5672/eco2` -> `amqp://admin:**@host:5672/eco2`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if parts.password is None:
        return redact_text(url)
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{user}:{MASK}@{host}" + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact_text(text: str) -> str:
    """Mask every credential-bearing URL, Slack webhook and Slack token inside free text."""
    text = _CREDENTIALS.sub(lambda m: f"{m.group('head')}{MASK}@", text)
    text = _SLACK_HOOK.sub(r"\1" + MASK, text)
    return _SLACK_TOKEN.sub("xox?-" + MASK, text)


def redact(value: Any) -> Any:
    """Deep-redact strings inside JSON-like data (dicts, lists, tuples)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value
