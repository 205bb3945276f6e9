"""The `smoke` command: parse, call, map the outcome to an exit code. Logic lives elsewhere."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, get_args

import click

from smoke.demo import SCENARIO_NAMES
from smoke.errors import ExitCode, SmokeError
from smoke.execute import Outputs, execute
from smoke.lint.report import FORMATS as LINT_FORMATS
from smoke.redact import redact_text
from smoke.report.slack import SlackOn
from smoke.report.slack import config_from as slack_config
from smoke.report.summary_file import check_writable
from smoke.suite import LintRuleId, load_suite
from smoke.target import load_target

F = TypeVar("F", bound=Callable[..., Any])
# The suite's list of rule ids, equal to the lint registry's (tests/lint/test_registry.py), so that
# `smoke run` need not import the rules.
LINT_RULES: tuple[str, ...] = get_args(LintRuleId)


def exits_cleanly(command: F) -> F:
    """Turn every SmokeError into one redacted line on stderr and its documented exit code."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SmokeError as exc:
            click.echo(f"smoke: error: {redact_text(str(exc))}", err=True)
            sys.exit(int(exc.exit_code))

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="celery-smoke", prog_name="smoke")
def cli() -> None:
    """Post-deploy smoke test for Celery fleets."""


@cli.command()
@click.argument("suite_file", metavar="SUITE", type=click.Path(dir_okay=False))
@exits_cleanly
def validate(suite_file: str) -> None:
    """Check a suite file without touching a broker."""
    suite = load_suite(suite_file)
    click.echo(
        f"{suite_file}: ok: suite {suite.suite!r}, {len(suite.workers)} workers, "
        f"{len(suite.queues())} queues, {len(suite.canaries)} canaries"
    )


@cli.command()
@click.option(
    "--suite", "suite_file", required=True, type=click.Path(dir_okay=False), help="Suite YAML."
)
@click.option("--broker", envvar=None, help="Broker URL (default: env CELERY_BROKER_URL).")
@click.option("--result-backend", help="The workers' result backend URL.")
@click.option(
    "--summary",
    "summary_path",
    type=click.Path(dir_okay=False),
    help="Write the JSON summary here.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["auto", "json", "table"]),
    default="auto",
    show_default=True,
    help="stdout: JSON lines, or a table (auto: table on a terminal).",
)
@click.option(
    "--termination-log",
    "termination_path",
    default=None,
    help="Write a compact verdict (< 4 KB) here (default: /dev/termination-log when it exists "
    "and is writable, as in a pod; '' turns it off).",
)
@click.option("--run-id", default=None, help="Id for this run (default: random).")
@click.option(
    "--junit", "junit_path", type=click.Path(dir_okay=False), help="Write JUnit XML here."
)
@click.option("--slack-channel", help="Channel for SLACK_BOT_TOKEN (a webhook has its own).")
@click.option(
    "--slack-on",
    type=click.Choice([o.value for o in SlackOn]),
    help="When to post to Slack (default: failure, when Slack is configured).",
)
@click.option("-q", "--quiet", is_flag=True, help="stdout: only failed checks and the verdict.")
@exits_cleanly
def run(
    suite_file: str,
    broker: str | None,
    result_backend: str | None,
    summary_path: str | None,
    output_format: str,
    termination_path: str | None,
    run_id: str | None,
    junit_path: str | None,
    slack_channel: str | None,
    slack_on: str | None,
    quiet: bool,
) -> None:
    """Verify a live Celery fleet against a suite."""
    suite, target = load_target(suite_file, broker, result_backend)
    slack = slack_config(os.environ, slack_channel, slack_on)
    for path in filter(None, (summary_path, junit_path)):
        check_writable(path)
    outputs = Outputs(
        output_format, summary_path, junit_path, slack, quiet, suite_file, termination_path
    )
    summary = execute(suite, target, outputs, run_id)
    sys.exit(int(summary.exit_code))


@cli.command()
@click.option("--suite", "suite_file", required=True, type=click.Path(dir_okay=False))
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--code",
    "code_dir",
    type=click.Path(exists=True, file_okay=False),
    help="Python sources to read pydantic-settings env_prefix values from.",
)
@click.option("--enable", multiple=True, type=click.Choice(LINT_RULES), help="Opt-in rule to run.")
@click.option("--disable", multiple=True, type=click.Choice(LINT_RULES), help="Rule to skip.")
@click.option("--format", "fmt", type=click.Choice(["auto", *LINT_FORMATS]), default="auto")
@exits_cleanly
def lint(
    *,
    suite_file: str,
    paths: tuple[str, ...],
    code_dir: str | None,
    enable: tuple[str, ...],
    disable: tuple[str, ...],
    fmt: str,
) -> None:
    """Check Kubernetes manifests (files, directories, - for stdin) against the suite, offline."""
    from smoke.lint.command import run_lint  # noqa: PLC0415 (`smoke run` need not load lint)

    if fmt == "auto":
        fmt = "text" if sys.stdout.isatty() else "json"
    output, code = run_lint(
        suite_file,
        paths,
        code_dir=code_dir,
        enable=enable,
        disable=disable,
        fmt=fmt,
        stdin=sys.stdin,
    )
    click.echo(output)
    sys.exit(int(code))


@cli.command()
@click.option(
    "--scenario",
    type=click.Choice(SCENARIO_NAMES),
    default="healthy",
    show_default=True,
    help="Which incident failure to deploy (see --list).",
)
@click.option(
    "--broker",
    help="RabbitMQ URL to run on (default: env CELERY_BROKER_URL, else an embedded broker).",
)
@click.option("--keep-running", is_flag=True, help="Leave the fleet up until Ctrl-C.")
@click.option("--list", "list_only", is_flag=True, help="Explain each scenario and exit.")
@click.option("--summary", "summary_path", type=click.Path(dir_okay=False), help="JSON summary.")
@click.option("--format", "output_format", type=click.Choice(["auto", "json", "table"]))
@exits_cleanly
def demo(
    scenario: str,
    broker: str | None,
    keep_running: bool,
    list_only: bool,
    summary_path: str | None,
    output_format: str | None,
) -> None:
    """Run the incident's fleet on this machine, healthy or broken, and smoke-test it."""
    # Imported here: the fleet's modules cost `smoke run` ~0.25 s of start-up it does not need.
    from smoke.demo.run import run_demo  # noqa: PLC0415
    from smoke.demo.scenarios import SCENARIOS, describe  # noqa: PLC0415

    if list_only:
        click.echo(describe())
        return
    outputs = Outputs(output_format or "auto", summary_path)
    broker_url = broker or os.environ.get("CELERY_BROKER_URL") or None
    summary = run_demo(SCENARIOS[scenario], broker_url, outputs, keep_running)
    sys.exit(int(summary.exit_code))


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("smoke: interrupted", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    except click.ClickException as exc:
        exc.show()
        sys.exit(int(ExitCode.BAD_INPUT))
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        # A bug of ours must still end in one line and a documented code, not a traceback.
        if os.environ.get("SMOKE_DEBUG"):
            raise
        reason = redact_text(f"{type(exc).__name__}: {exc}")
        click.echo(f"smoke: internal error: {reason} (SMOKE_DEBUG=1 shows the traceback)", err=True)
        sys.exit(int(ExitCode.COULD_NOT_RUN))
