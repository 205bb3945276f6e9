"""Read-only Kubernetes API access for the kube checks, returned as plain data.

`kubernetes` is imported inside the functions (noqa PLC0415), only when a suite has a worker with a
`kubernetes:` block: it costs time and memory that every other run should not pay. In a pod the
service account is used (in-cluster config); elsewhere the kubeconfig (`KUBECONFIG`, else
~/.kube/config).

Responses are read as raw JSON rather than the client's models, so the shape we depend on is the
API's, not one client release's. Every failure names the RBAC verb and resource the call needed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smoke.errors import SmokeError

TIMEOUT_S = 5.0


class ClusterError(SmokeError):
    """A call the kube checks needed did not succeed; the checks report it as `error`."""

    def __init__(self, message: str, status: int = 0, verb: str = "", resource: str = "") -> None:
        super().__init__(message, status=status, verb=verb, resource=resource)
        self.status = status
        self.verb = verb
        self.resource = resource

    @property
    def not_found(self) -> bool:
        return self.status == 404


class NoCluster(ClusterError):
    """Not in a pod and no kubeconfig anywhere: a run from a laptop or CI, where the kube checks
    have nothing to look at. They are skipped, not failed; a kubeconfig that is named but unusable,
    or a pod without its service account, is still an error."""


@dataclass(frozen=True)
class Rollout:
    name: str
    generation: int
    observed_generation: int
    desired: int
    updated: int
    available: int
    selector: str  # the Deployment's pod selector as a label selector string
    stalled: str = ""  # why the rollout stopped progressing (ProgressDeadlineExceeded), if it did


@dataclass(frozen=True)
class Pod:
    name: str
    ready: bool
    restarts: int
    container: str  # the first container: the one whose logs explain a deaf worker
    terminating: bool = False


class Cluster:
    def __init__(self, api_client: Any, timeout_s: float = TIMEOUT_S) -> None:
        from kubernetes import client  # noqa: PLC0415

        self._api_client = api_client
        self._apps = client.AppsV1Api(api_client)
        self._core = client.CoreV1Api(api_client)
        self._timeout = timeout_s
        self._unreachable: ClusterError | None = None

    def close(self) -> None:
        self._api_client.close()

    def rollout(self, namespace: str, name: str) -> Rollout:
        body = self._json(
            "get",
            "deployments",
            namespace,
            lambda **kw: self._apps.read_namespaced_deployment(name, namespace, **kw),
        )
        return parse_rollout(body)

    def pods(self, namespace: str, selector: str) -> tuple[Pod, ...]:
        body = self._json(
            "list",
            "pods",
            namespace,
            lambda **kw: self._core.list_namespaced_pod(namespace, label_selector=selector, **kw),
        )
        return tuple(parse_pod(item) for item in body.get("items") or [])

    def log_tail(self, namespace: str, pod: str, container: str, lines: int) -> str:
        raw = self._call(
            "get",
            "pods/log",
            namespace,
            lambda **kw: self._core.read_namespaced_pod_log(
                pod, namespace, container=container, tail_lines=lines, **kw
            ),
        )
        return bytes(raw.data).decode("utf-8", errors="replace")

    def _json(
        self, verb: str, resource: str, namespace: str, request: Callable[..., Any]
    ) -> dict[str, Any]:
        data = json.loads(self._call(verb, resource, namespace, request).data)
        return data if isinstance(data, dict) else {}

    def _call(self, verb: str, resource: str, namespace: str, request: Callable[..., Any]) -> Any:
        from kubernetes.client.exceptions import ApiException  # noqa: PLC0415
        from urllib3.exceptions import HTTPError  # noqa: PLC0415

        # An API server that did not answer once will not answer the next call either: say so at
        # once instead of waiting out a timeout per call.
        if self._unreachable is not None:
            raise self._unreachable
        what = f"{verb} {resource} in namespace {namespace}"
        try:
            return request(_preload_content=False, _request_timeout=self._timeout)
        except ApiException as exc:
            raise _api_error(exc.status or 0, str(exc.reason or ""), verb, resource, what) from None
        except (HTTPError, OSError) as exc:
            self._unreachable = ClusterError(
                f"Kubernetes API unreachable ({type(exc).__name__}) for {what}",
                verb=verb,
                resource=resource,
            )
            raise self._unreachable from None


def _api_error(status: int, reason: str, verb: str, resource: str, what: str) -> ClusterError:
    if status == 403:
        message = f"forbidden: the runner may not {what} (RBAC verb {verb!r} on {resource} missing)"
    elif status == 401:
        message = f"unauthorized: the API server rejected the runner's credentials to {what}"
    elif status == 404:
        message = f"not found: {what}"
    else:
        message = f"Kubernetes API answered {status} {reason} to {what}"
    return ClusterError(message, status=status, verb=verb, resource=resource)


def connect(environ: Mapping[str, str] | None = None, timeout_s: float = TIMEOUT_S) -> Cluster:
    """In a pod: the service account. Elsewhere: the kubeconfig. Neither: NoCluster."""
    env = os.environ if environ is None else environ
    in_pod = bool(env.get("KUBERNETES_SERVICE_HOST"))
    # kubernetes' own KUBE_CONFIG_DEFAULT_LOCATION froze $KUBECONFIG at its import: not used here.
    default = Path("~/.kube/config").expanduser()
    if not in_pod and not env.get("KUBECONFIG") and not default.exists():
        raise NoCluster(
            "not in a pod and no kubeconfig: Kubernetes checks skipped (set KUBECONFIG)"
        )
    # Imported only now: it costs ~0.2 s, for nothing when there is no cluster to ask.
    from kubernetes import client, config  # noqa: PLC0415

    configuration = client.Configuration()
    try:
        if in_pod:
            config.load_incluster_config(client_configuration=configuration)
        else:
            config.load_kube_config(
                config_file=env.get("KUBECONFIG") or None,
                client_configuration=configuration,
                persist_config=False,
            )
    except (config.ConfigException, OSError, ValueError) as exc:
        where = "in-cluster service account" if in_pod else "kubeconfig"
        raise ClusterError(
            f"no usable Kubernetes config ({where}): {exc}; outside a pod set KUBECONFIG"
        ) from None
    configuration.retries = 1
    return Cluster(client.ApiClient(configuration), timeout_s)


def parse_rollout(body: Mapping[str, Any]) -> Rollout:
    meta, spec, status = (body.get(k) or {} for k in ("metadata", "spec", "status"))
    stalled = [
        str(c.get("message") or c.get("reason") or "")
        for c in status.get("conditions") or []
        if c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded"
    ]
    return Rollout(
        name=str(meta.get("name", "")),
        generation=int(meta.get("generation") or 0),
        observed_generation=int(status.get("observedGeneration") or 0),
        desired=int(spec.get("replicas", 1)),
        updated=int(status.get("updatedReplicas") or 0),
        available=int(status.get("availableReplicas") or 0),
        selector=label_selector(spec.get("selector") or {}),
        stalled=stalled[0] if stalled else "",
    )


def parse_pod(body: Mapping[str, Any]) -> Pod:
    meta, spec, status = (body.get(k) or {} for k in ("metadata", "spec", "status"))
    conditions = status.get("conditions") or []
    containers = spec.get("containers") or [{}]
    return Pod(
        name=str(meta.get("name", "")),
        ready=any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions),
        restarts=sum(
            int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or []
        ),
        container=str(containers[0].get("name", "")),
        terminating=bool(meta.get("deletionTimestamp")),
    )


def label_selector(selector: Mapping[str, Any]) -> str:
    """A LabelSelector object as the query string the list call takes."""
    terms = [f"{key}={value}" for key, value in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        key, operator, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if operator == "In":
            terms.append(f"{key} in ({','.join(values)})")
        elif operator == "NotIn":
            terms.append(f"{key} notin ({','.join(values)})")
        elif operator == "Exists":
            terms.append(str(key))
        elif operator == "DoesNotExist":
            terms.append(f"!{key}")
    return ",".join(terms)
