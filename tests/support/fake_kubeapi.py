"""A Kubernetes API server on loopback, for the kube checks: it serves Deployments, Pods and pod
logs as the real API does (JSON, Status objects for errors), so the real `kubernetes` client talks
to it through a generated kubeconfig."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

_ROUTES = [
    ("deployment", re.compile(r"^/apis/apps/v1/namespaces/([^/]+)/deployments/([^/]+)$")),
    ("log", re.compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)/log$")),
    ("pods", re.compile(r"^/api/v1/namespaces/([^/]+)/pods$")),
]


@dataclass
class FakeCluster:
    """What the server answers. Keys: (kind, namespace, name); a value is a body, or an int status
    to fail with (403, 404, 500)."""

    deployments: dict[tuple[str, str], Any] = field(default_factory=dict)
    pods: dict[str, Any] = field(default_factory=dict)  # namespace -> [pod bodies] or status
    logs: dict[tuple[str, str], Any] = field(default_factory=dict)  # (namespace, pod) -> text
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    url: str = ""

    def kubeconfig(self, directory: Path) -> Path:
        path = directory / "kubeconfig"
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
                    "users": [{"name": "runner", "user": {"token": "not-a-real-token"}}],
                    "contexts": [
                        {"name": "fake", "context": {"cluster": "fake", "user": "runner"}}
                    ],
                    "current-context": "fake",
                }
            )
        )
        return path


def deployment(
    name: str,
    replicas: int = 2,
    updated: int = 2,
    available: int = 2,
    generation: int = 3,
    observed: int = 3,
) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {"name": name, "generation": generation},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}},
        "status": {
            "observedGeneration": observed,
            "replicas": replicas,
            "updatedReplicas": updated,
            "availableReplicas": available,
            "readyReplicas": available,
        },
    }


def pod(name: str, ready: bool = True, restarts: int = 0) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "worker"}, {"name": "sidecar"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"name": "worker", "restartCount": restarts}],
        },
    }


def _status(code: int, path: str) -> dict[str, Any]:
    reason = {403: "Forbidden", 404: "NotFound"}.get(code, "InternalError")
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": f"{path}: {reason.lower()}",
        "reason": reason,
        "code": code,
    }


@contextmanager
def serve(cluster: FakeCluster) -> Iterator[FakeCluster]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            cluster.requests.append((parts.path, parse_qs(parts.query)))
            answer: Any = 404
            for kind, route in _ROUTES:
                match = route.match(parts.path)
                if match:
                    key = match.groups()
                    table: dict[Any, Any] = {
                        "deployment": cluster.deployments,
                        "log": cluster.logs,
                        "pods": cluster.pods,
                    }[kind]
                    answer = table.get(key if kind != "pods" else key[0], 404)
                    if kind == "pods" and isinstance(answer, list):
                        answer = {"kind": "PodList", "apiVersion": "v1", "items": answer}
                    break
            if isinstance(answer, int):
                self._send(answer, json.dumps(_status(answer, parts.path)), "application/json")
            elif isinstance(answer, str):
                self._send(200, answer, "text/plain")
            else:
                self._send(200, json.dumps(answer), "application/json")

        def _send(self, code: int, text: str, content_type: str) -> None:
            data = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    cluster.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield cluster
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
