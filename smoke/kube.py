"""The kube checks (DESIGN section 4): `rollout:<worker>` and `pods:<worker>`, for every worker with
a `kubernetes:` block.

They see what only the cluster knows: a pod that is Running and Ready but never joined the broker
(the incident's users-worker). Such a deaf pod is named with its restart count and the last log
lines that look like errors, URLs masked. A cluster that cannot be reached or forbids a read makes
the check `error`, naming the RBAC verb that was missing.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from smoke.checks import DEAF_WORKER_HINT
from smoke.fleet import FleetSnapshot
from smoke.kubeapi import Cluster, ClusterError, NoCluster, Pod, Rollout, connect
from smoke.redact import redact_text
from smoke.results import CheckResult, errored, failed, passed, skipped
from smoke.suite import Suite, Worker

LOG_TAIL_LINES = 200
EXCERPT_LINES = 5
EXCERPT_WIDTH = 240
_ERROR_LINE = re.compile(
    r"\b(error|critical|fatal|exception|traceback|refused|denied|cannot|unable|failed)\b",
    re.IGNORECASE,
)
_GLOB = re.compile(r"[*?\[]")
RBAC_HINT = (
    "the runner's service account needs get/list on deployments and pods and get on pods/log in "
    "the worker's namespace (manifests/base/watch)"
)


def watched(suite: Suite) -> tuple[Worker, ...]:
    return tuple(w for w in suite.workers if w.kubernetes is not None)


def planned(suite: Suite) -> list[str]:
    return [f"{kind}:{w.name}" for w in watched(suite) for kind in ("rollout", "pods")]


@dataclass
class Session:
    """The cluster as this run sees it: connected lazily, or the reason it could not be."""

    workers: tuple[Worker, ...]
    cluster: Cluster | None = None
    error: ClusterError | None = None

    def expected_nodes(self) -> frozenset[str]:
        """`<prefix>@<pod>` for each Ready pod, so the fleet gather waits for every one of them.
        Best effort: what cannot be read here is reported by `checks`."""
        names: set[str] = set()
        for worker in self.workers:
            prefix = _node_prefix(worker.nodes)
            if prefix is None:
                continue
            with contextlib.suppress(ClusterError):
                names.update(f"{prefix}@{pod.name}" for pod in self._ready_pods(worker))
        return frozenset(names)

    def checks(self, snapshot: FleetSnapshot) -> list[CheckResult]:
        return [
            result for worker in self.workers for result in self._worker_checks(worker, snapshot)
        ]

    def _worker_checks(self, worker: Worker, snapshot: FleetSnapshot) -> list[CheckResult]:
        ids = (f"rollout:{worker.name}", f"pods:{worker.name}")
        try:
            rollout = self._rollout(worker)
        except NoCluster as exc:
            return [skipped(check_id, str(exc)) for check_id in ids]
        except ClusterError as exc:
            if exc.not_found:
                ref = _ref(worker)
                return [
                    failed(
                        ids[0],
                        f"deployment {ref} not found",
                        hint="check the suite's `kubernetes:` block against the cluster",
                    ),
                    skipped(ids[1], f"no deployment {ref}"),
                ]
            return [_cluster_error(check_id, exc) for check_id in ids]
        result = rollout_check(worker, rollout)
        try:
            pods = self._pods(worker, rollout.selector)
        except ClusterError as exc:
            return [result, _cluster_error(ids[1], exc)]
        ready = _ready(pods)
        deaf = deaf_pods(ready, snapshot)
        excerpts = {pod.name: self._excerpt(worker, pod) for pod in deaf}
        return [result, pods_check(worker, ready, deaf, excerpts)]

    def _ready_pods(self, worker: Worker) -> list[Pod]:
        return _ready(self._pods(worker, self._rollout(worker).selector))

    def _connected(self) -> Cluster:
        if self.error is not None:
            raise self.error
        if self.cluster is None:
            try:
                self.cluster = connect()
            except ClusterError as exc:
                self.error = exc
                raise
        return self.cluster

    def _rollout(self, worker: Worker) -> Rollout:
        assert worker.kubernetes is not None
        ref = worker.kubernetes
        return self._connected().rollout(ref.namespace, ref.deployment)

    def _pods(self, worker: Worker, selector: str) -> tuple[Pod, ...]:
        assert worker.kubernetes is not None
        return self._connected().pods(worker.kubernetes.namespace, selector)

    def _excerpt(self, worker: Worker, pod: Pod) -> tuple[str, ...]:
        assert worker.kubernetes is not None
        try:
            text = self._connected().log_tail(
                worker.kubernetes.namespace, pod.name, pod.container, LOG_TAIL_LINES
            )
        except ClusterError as exc:
            return (f"(logs unavailable: {exc})",)
        return error_lines(text)


@contextlib.contextmanager
def session(suite: Suite) -> Iterator[Session | None]:
    """None when no worker has a `kubernetes:` block: then `kubernetes` is never imported."""
    workers = watched(suite)
    if not workers:
        yield None
        return
    current = Session(workers)
    try:
        yield current
    finally:
        if current.cluster is not None:
            current.cluster.close()


def rollout_check(worker: Worker, rollout: Rollout) -> CheckResult:
    check_id = f"rollout:{worker.name}"
    details = {
        "deployment": _ref(worker),
        "desired": rollout.desired,
        "updated": rollout.updated,
        "available": rollout.available,
        "generation": rollout.generation,
        "observed_generation": rollout.observed_generation,
    }
    problems = []
    if rollout.observed_generation < rollout.generation:
        problems.append(
            f"the controller has not seen generation {rollout.generation} yet "
            f"(observed {rollout.observed_generation})"
        )
    if rollout.updated != rollout.desired:
        problems.append(f"{rollout.updated} of {rollout.desired} replica(s) updated")
    if rollout.available < worker.min_nodes:
        problems.append(f"{rollout.available} available, at least {worker.min_nodes} needed")
    if rollout.stalled:
        problems.append(f"rollout stalled: {rollout.stalled}")
    if not problems:
        return passed(
            check_id,
            f"{rollout.updated}/{rollout.desired} updated, {rollout.available} available",
            **details,
        )
    return failed(
        check_id,
        f"deployment {_ref(worker)} not rolled out: " + "; ".join(problems),
        hint=f"kubectl rollout status deployment/{rollout.name} -n {_namespace(worker)}",
        **details,
    )


def deaf_pods(ready: Iterable[Pod], snapshot: FleetSnapshot) -> list[Pod]:
    """Ready pods with no answering node. A node `name@host` is a pod's when host is the pod name
    (Celery's default node name is `celery@<hostname>`, and a pod's hostname is its name)."""
    hosts = {name.partition("@")[2].split(".", 1)[0] for name in snapshot.nodes}
    return [pod for pod in ready if pod.name not in hosts]


def pods_check(
    worker: Worker, ready: list[Pod], deaf: list[Pod], excerpts: dict[str, tuple[str, ...]]
) -> CheckResult:
    check_id = f"pods:{worker.name}"
    if not ready:
        return skipped(check_id, f"no Ready pod of deployment {_ref(worker)} to compare")
    if not deaf:
        return passed(
            check_id,
            f"all {len(ready)} Ready pod(s) answered",
            pods=[p.name for p in ready],
        )
    described = "; ".join(_describe(pod, excerpts.get(pod.name, ())) for pod in deaf)
    return failed(
        check_id,
        f"{len(deaf)} of {len(ready)} Ready pod(s) never answered a ping: {described}",
        hint=f"kubectl logs -n {_namespace(worker)} {deaf[0].name}; {DEAF_WORKER_HINT}",
        deaf=[
            {"pod": p.name, "restarts": p.restarts, "log_excerpt": list(excerpts.get(p.name, ()))}
            for p in deaf
        ],
        answered=sorted(p.name for p in ready if p not in deaf),
    )


def error_lines(log: str) -> tuple[str, ...]:
    """The last few log lines that look like errors, masked and cut to a readable width."""
    hits = [line.strip() for line in log.splitlines() if _ERROR_LINE.search(line)]
    return tuple(_shorten(redact_text(line)) for line in hits[-EXCERPT_LINES:])


def _ready(pods: Iterable[Pod]) -> list[Pod]:
    return [p for p in pods if p.ready and not p.terminating]


def _describe(pod: Pod, excerpt: tuple[str, ...]) -> str:
    text = f"{pod.name} ({pod.restarts} restart(s)"
    return text + (f"; last error: {excerpt[-1]})" if excerpt else ")")


def _shorten(line: str) -> str:
    return line if len(line) <= EXCERPT_WIDTH else line[: EXCERPT_WIDTH - 3] + "..."


def _cluster_error(check_id: str, exc: ClusterError) -> CheckResult:
    hint = RBAC_HINT if exc.status == 403 else ""
    return errored(check_id, str(exc), hint=hint, verb=exc.verb, resource=exc.resource)


def _node_prefix(pattern: str) -> str | None:
    """`celery@scan-worker-*` -> `celery`: the literal part before `@`, if there is one."""
    prefix, at, _ = pattern.partition("@")
    return prefix if at and prefix and not _GLOB.search(prefix) else None


def _namespace(worker: Worker) -> str:
    assert worker.kubernetes is not None
    return worker.kubernetes.namespace


def _ref(worker: Worker) -> str:
    assert worker.kubernetes is not None
    return f"{worker.kubernetes.namespace}/{worker.kubernetes.deployment}"
