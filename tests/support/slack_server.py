"""A real HTTP server on loopback that speaks Slack's two posting protocols: an incoming webhook
(`POST /services/...`, answers `ok`) and the Web API's `chat.postMessage` (bearer token, JSON
`{"ok": true, "ts": ...}`). It enforces the Block Kit limits Slack enforces, records every request,
and answers from a script so tests can stage 429s and outages.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WEBHOOK_PATH = "/services/T0SMOKE/B0SMOKE/webhook-secret-Zq81"
TOKEN = "xoxb-1111-2222-token-secret-Zq81"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # None: the protocol's normal success body


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def limit_problem(payload: dict[str, Any]) -> str | None:
    """What real Slack would refuse in this payload, if anything."""
    blocks = payload.get("blocks") or []
    if len(blocks) > 50:
        return "invalid_blocks: more than 50 blocks"
    for block in blocks:
        text = block.get("text") or {}
        limit = 150 if block["type"] == "header" else 3000
        if len(text.get("text", "")) > limit:
            return f"invalid_blocks: {block['type']} text over {limit}"
        for element in block.get("elements", []):
            if len(element.get("text", "")) > 3000:
                return "invalid_blocks: context text over 3000"
    return None


class FakeSlack:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.script: list[Reply] = []
        self.forever: Reply | None = None
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def webhook_url(self) -> str:
        return self.base + WEBHOOK_PATH

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    def posts(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests]

    def _next_reply(self) -> Reply | None:
        with self._lock:
            if self.script:
                return self.script.pop(0)
            return self.forever

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw or b"{}")
                fake.requests.append(Request(self.path, dict(self.headers), body))
                staged = fake._next_reply()
                if staged is not None:
                    self._answer(staged.status, staged.body or "", staged.headers)
                elif self.path == WEBHOOK_PATH:
                    self._webhook(body)
                elif self.path == "/api/chat.postMessage":
                    self._post_message(body)
                else:
                    self._answer(404, "no_service")

            def _webhook(self, body: dict[str, Any]) -> None:
                problem = limit_problem(body)
                self._answer(400 if problem else 200, problem or "ok")

            def _post_message(self, body: dict[str, Any]) -> None:
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._json({"ok": False, "error": "invalid_auth"})
                elif not body.get("channel"):
                    self._json({"ok": False, "error": "channel_not_found"})
                elif problem := limit_problem(body):
                    self._json({"ok": False, "error": problem})
                else:
                    ts = f"1700000000.{next(fake._ts):06d}"
                    self._json({"ok": True, "channel": body["channel"], "ts": ts})

            def _json(self, data: dict[str, Any]) -> None:
                self._answer(200, json.dumps(data), {"Content-Type": "application/json"})

            def _answer(
                self, status: int, text: str, headers: dict[str, str] | None = None
            ) -> None:
                payload = text.encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@contextmanager
def running() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
