"""Benchmark `smoke run` against the floor and against what the team does today.

    .venv/bin/python bench/run.py            # the full run recorded in bench/README.md (~3 min)
    .venv/bin/python bench/run.py --quick    # a smoke test of the benchmark itself (~40 s)

Needs the machine's RabbitMQ (rabbitmqctl on PATH) and Redis on 127.0.0.1, like the tests. Every
fleet gets a fresh vhost, deleted afterwards; the manual procedure's result keys are deleted too.
Everything is measured as a child process, interpreter start and imports included, because that
is what a deploy pipeline waits for. Repetitions are interleaved so load noise hits all alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import celery
import kombu
import redis
import yaml
from kombu import Connection

from bench.fleets import REPO, Topology, eco2, scaled, with_orphan_canary
from bench.measure import Sample, Stats, measure
from tests.conftest import REDIS_URL, amqp_url, cli_env, fresh_vhost, rabbitmqctl
from tests.support.fleet import start_fleet

PY = sys.executable
ORPHAN = "orphan.queue"


@dataclass(frozen=True)
class Plan:
    reps: int
    manual_reps: int
    scale_nodes: tuple[int, ...]
    scale_queues: tuple[int, ...]


FULL = Plan(reps=7, manual_reps=3, scale_nodes=(3, 20), scale_queues=(7, 50, 200))
QUICK = Plan(reps=2, manual_reps=1, scale_nodes=(3,), scale_queues=(7, 200))


@dataclass
class Results:
    eco2: dict[str, Stats] = field(default_factory=dict)
    in_run: dict[str, float] = field(default_factory=dict)  # time after imports, median
    scale: dict[tuple[int, int], Stats] = field(default_factory=dict)
    load: dict[str, float] = field(default_factory=dict)  # 1-minute load average at each stage


class Unexpected(RuntimeError):
    pass


@contextlib.contextmanager
def live(topology: Topology, workdir: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """A fresh vhost with the topology's workers running; yields (vhost, url, env for smoke)."""
    logs = workdir / "logs" / topology.name.replace(" ", "").replace(",", "-")
    logs.mkdir(parents=True, exist_ok=True)
    with fresh_vhost() as vhost:
        url = amqp_url(vhost)
        with start_fleet(url, REDIS_URL, topology.workers, logs):
            yield vhost, url, cli_env(CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=REDIS_URL)


def smoke_argv(suite_file: Path, summary: Path) -> list[str]:
    return [PY, "-m", "smoke", "run", "--suite", str(suite_file), "--format", "json",
            "--summary", str(summary)]  # fmt: skip


def expect(sample: Sample, code: int, what: str) -> Sample:
    if sample.exit_code != code:
        raise Unexpected(
            f"{what}: exit {sample.exit_code}, expected {code}\n{sample.output[-3000:]}"
        )
    return sample


def write_suite(workdir: Path, name: str, suite: dict[str, Any]) -> Path:
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def manual_procedure(vhost: str, url: str, queues: Sequence[str], env: dict[str, str]) -> Sample:
    """Incident report section 6, automated: list the queues, ping, then per queue one canary
    with `celery call` and its result with `celery result`, one after another as a person would."""
    celery_cli = [PY, "-m", "celery", "-b", url, "--result-backend", REDIS_URL]
    started = time.perf_counter()
    steps = [
        measure(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages", "consumers"],
                env, REPO),
        measure([*celery_cli, "inspect", "ping"], env, REPO),
    ]  # fmt: skip
    task_ids = []
    for queue in queues:
        call = expect(
            measure([*celery_cli, "call", "smoke.probe", "--queue", queue, "--expires", "30"],
                    env, REPO),
            0, f"celery call {queue}",
        )  # fmt: skip
        task_ids.append(call.output.strip().splitlines()[-1])
        steps += [call, measure([*celery_cli, "result", task_ids[-1]], env, REPO)]
    wall = time.perf_counter() - started
    redis.Redis.from_url(REDIS_URL).delete(*(f"celery-task-meta-{t}" for t in task_ids))
    failed = [s for s in steps if s.exit_code != 0]
    return Sample(wall, max(s.rss_mb for s in steps), failed[0].exit_code if failed else 0, "")


def bench_eco2(plan: Plan, workdir: Path, results: Results) -> None:
    topology = eco2()
    with live(topology, workdir) as (vhost, url, env):
        with Connection(url) as connection:  # a queue that exists but nobody consumes
            connection.default_channel.queue_declare(queue=ORPHAN, durable=True, auto_delete=False)
        orphan_suite = with_orphan_canary(topology.suite, ORPHAN, "30s")
        summary = workdir / "summary.json"
        commands = {
            "floor": ([PY, "bench/floor.py", url, REDIS_URL, ",".join(topology.nodes),
                       "scan.vision"], 0),
            "smoke run": (smoke_argv(write_suite(workdir, "eco2", topology.suite), summary), 0),
            "celery inspect ping": ([PY, "-m", "celery", "-b", url, "inspect", "ping"], 0),
            "consumerless queue": (smoke_argv(write_suite(workdir, "orphan", orphan_suite),
                                              summary), 1),
        }  # fmt: skip
        samples: dict[str, list[Sample]] = {name: [] for name in [*commands, "manual procedure"]}
        in_run: dict[str, list[float]] = {"floor": [], "smoke run": [], "consumerless queue": []}
        for name, (argv, code) in commands.items():  # warm-up: caches, .pyc files
            expect(measure(argv, env, REPO), code, name)
        for rep in range(plan.reps):
            for name, (argv, code) in commands.items():
                samples[name].append(expect(measure(argv, env, REPO), code, name))
                if name == "floor":
                    in_run[name].append(float(samples[name][-1].output.rsplit("run_s=", 1)[1]))
                elif name in in_run:
                    in_run[name].append(json.loads(summary.read_text())["duration_s"])
            if rep < plan.manual_reps:
                samples["manual procedure"].append(
                    expect(manual_procedure(vhost, url, topology.queues, env), 0, "manual")
                )
        orphan = json.loads(summary.read_text())
        reason = next(c["reason"] for c in orphan["checks"] if c["id"] == f"canary:{ORPHAN}")
        if "no consumer" not in reason:
            raise Unexpected(f"consumerless canary reported {reason!r}")
    results.eco2 = {name: Stats.of(s) for name, s in samples.items()}
    results.in_run = {name: statistics.median(v) for name, v in in_run.items()}


def bench_scale(plan: Plan, workdir: Path, results: Results) -> None:
    for nodes in plan.scale_nodes:
        for queues in plan.scale_queues:
            topology = scaled(queues, nodes)
            suite_file = write_suite(workdir, f"scale-{queues}-{nodes}", topology.suite)
            argv = smoke_argv(suite_file, workdir / "summary.json")
            with live(topology, workdir) as (_, _, env):
                expect(measure(argv, env, REPO), 0, topology.name)
                samples = [expect(measure(argv, env, REPO), 0, topology.name)
                           for _ in range(plan.reps)]  # fmt: skip
            results.scale[(nodes, queues)] = Stats.of(samples)
            print(f"  {topology.name}: {Stats.of(samples).median_s:.3f} s", file=sys.stderr)


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    rabbit = rabbitmqctl("version").strip()
    redis_version = redis.Redis.from_url(REDIS_URL).info("server")["redis_version"]
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_kb // 1024**2} GB RAM; Python "
        f"{platform.python_version()}, celery {celery.__version__}, kombu {kombu.__version__}, "
        f"RabbitMQ {rabbit}, Redis {redis_version}"
    )


def row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def report(plan: Plan, results: Results) -> str:
    e = results.eco2
    floor, smoke, manual = e["floor"], e["smoke run"], e["manual procedure"]
    lines = [
        f"Machine: {machine()}.",
        "Load average (1 min): "
        + ", ".join(f"{k} {v:.2f}" for k, v in results.load.items())
        + " (the 20-node fleets load the machine themselves). "
        f"Repetitions: {plan.reps} (manual procedure: {plan.manual_reps}), after one warm-up.",
        "",
        "### Healthy eco2 fleet (7 queues, 3 nodes, 7 canaries)",
        "",
        row("what", "median s", "min-max s", "x floor", "peak RSS MB"),
        row("---", "---:", "---:", "---:", "---:"),
    ]
    for name in ("floor", "smoke run", "celery inspect ping", "manual procedure"):
        s = e[name]
        lines.append(row(name, f"{s.median_s:.3f}", s.spread(),
                         f"{s.median_s / floor.median_s:.2f}", f"{s.rss_mb:.0f}"))  # fmt: skip
    lines += [
        "",
        f"After start-up and imports, `smoke run` takes {results.in_run['smoke run']:.3f} s "
        f"(its summary's duration) and the floor {results.in_run['floor']:.3f} s (median): the "
        "difference in wall time is what each imports before it starts.",
        "",
        "### Scale (one canary per queue; wall time per run)",
        "",
        row("nodes", "queues", "median s", "min-max s", "x 7 queues", "peak RSS MB"),
        row("---:", "---:", "---:", "---:", "---:", "---:"),
    ]
    for (nodes, queues), s in sorted(results.scale.items()):
        base = results.scale.get((nodes, 7))
        ratio = f"{s.median_s / base.median_s:.2f}" if base else "-"
        lines.append(row(str(nodes), str(queues), f"{s.median_s:.3f}", s.spread(), ratio,
                         f"{s.rss_mb:.0f}"))  # fmt: skip
    orphan = e["consumerless queue"]
    worst_scale = max(
        (s.median_s / results.scale[(n, 7)].median_s
         for (n, q), s in results.scale.items() if q == 200 and (n, 7) in results.scale),
        default=float("nan"),
    )  # fmt: skip
    rss = max([smoke.rss_mb, orphan.rss_mb, *(s.rss_mb for s in results.scale.values())])
    targets = [
        ("healthy eco2 within 1.5x of the floor", smoke.median_s / floor.median_s <= 1.5,
         f"{smoke.median_s / floor.median_s:.2f}x"),
        (">= 5x faster than the automated manual procedure", manual.median_s / smoke.median_s >= 5,
         f"{manual.median_s / smoke.median_s:.1f}x faster"),
        ("200 queues within 3x the 7-queue time", worst_scale <= 3, f"{worst_scale:.2f}x (worst)"),
        ("peak RSS <= 80 MB", rss <= 80, f"{rss:.0f} MB (largest)"),
        ("consumerless queue (canary timeout 30 s) reported in < 1 s", orphan.median_s < 1,
         f"{orphan.median_s:.3f} s (min-max {orphan.spread()}), exit 1"),
    ]  # fmt: skip
    lines += ["", "### Targets", "", row("target", "measured", "met"), row("---", "---", "---")]
    lines += [row(what, got, "yes" if ok else "**no**") for what, ok, got in targets]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, 3-node scale only")
    parser.add_argument("--reps", type=int, help="repetitions per measurement")
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    if args.reps:
        plan = Plan(args.reps, min(args.reps, plan.manual_reps), plan.scale_nodes,
                    plan.scale_queues)  # fmt: skip
    results = Results(load={"at start": os.getloadavg()[0]})
    with tempfile.TemporaryDirectory(prefix="smoke-bench-") as tmp:
        try:
            print("eco2: floor, smoke run, inspect ping, manual procedure...", file=sys.stderr)
            bench_eco2(plan, Path(tmp), results)
            results.load["after the eco2 section"] = os.getloadavg()[0]
            print("scale...", file=sys.stderr)
            bench_scale(plan, Path(tmp), results)
        except (Unexpected, subprocess.SubprocessError) as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 1
    results.load["at the end"] = os.getloadavg()[0]
    text = report(plan, results)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
