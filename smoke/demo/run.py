"""`smoke demo`: deploy a scenario's fleet, run the demo suite against it exactly as `smoke run`
would (same engine, same outputs), stop every process, hand back the run's Summary."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from smoke.demo.deploy import deploy
from smoke.demo.processes import WorkerProcess
from smoke.demo.scenarios import Scenario
from smoke.demo.site import Site, provision
from smoke.errors import Interrupted
from smoke.execute import Outputs, execute, signals_interrupt
from smoke.redact import mask_url, redact_text
from smoke.results import Summary
from smoke.suite import Suite, load_suite

SUITE_FILE = "eco2-demo.yaml"

Say = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def suite_path() -> Path:
    return Path(str(resources.files("smoke.demo") / SUITE_FILE))


def demo_suite() -> Suite:
    return load_suite(suite_path(), environ={})


def run_demo(
    scenario: Scenario,
    broker_url: str | None,
    outputs: Outputs,
    keep_running: bool = False,
    say: Say = _stderr,
) -> Summary:
    """stdout gets exactly what `smoke run` prints; what the demo itself has to say goes to `say`
    (stderr). Ctrl-C or SIGTERM at any point stops the fleet before returning or raising."""
    suite = demo_suite()
    with signals_interrupt(), provision(broker_url, suite.queues()) as site:
        where = "embedded broker" if broker_url is None else "broker"
        say(f"smoke demo: scenario {scenario.name} on the {where} {mask_url(site.broker_url)}")
        with deploy(scenario.fleet(site), site) as pods:
            for pod in pods:
                say(f"  started {pod.spec.node} (pid {pod.pid}) {pod.spec.app}")
            summary = execute(suite, site.target, outputs)
            _tell_ended(pods, say)
            if keep_running:
                _serve(site, say)
        say(f"smoke demo: stopped {len(pods)} worker process(es)")
    return summary


def _tell_ended(pods: list[WorkerProcess], say: Say) -> None:
    """A worker that exited is what `kubectl get pods` would show as crashing: say why."""
    for pod in pods:
        if pod.alive():
            continue
        log = pod.spec.log.read_text(errors="replace") if pod.spec.log else ""
        last = next((line for line in reversed(log.splitlines()) if line.strip()), "")
        say(f"  {pod.spec.node} exited with code {pod.process.returncode}: {redact_text(last)}")


def _serve(site: Site, say: Say) -> None:
    say(
        "smoke demo: the fleet keeps running; in another shell:\n"
        f"  smoke run --suite {suite_path()} --broker {mask_url(site.broker_url)} "
        f"--result-backend {site.backend_url}\n"
        f"worker logs: {site.workdir / 'pods'}\n"
        "Ctrl-C stops it."
    )
    try:
        while True:
            signal.pause()
    except Interrupted:
        return
