"""The `smoke` command: parse, call, map the outcome to an exit code. Logic lives elsewhere."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, get_args

import click

from smoke import __version__
from smoke.errors import ExitCode, SmokeError
from smoke.execute import Outputs, execute
from smoke.lint.report import FORMATS as LINT_FORMATS
from smoke.redact import redact_text
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
@click.version_option(__version__, prog_name="smoke")
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
@click.option("--run-id", default=None, help="Id for this run (default: random).")
@exits_cleanly
def run(
    suite_file: str,
    broker: str | None,
    result_backend: str | None,
    summary_path: str | None,
    output_format: str,
    run_id: str | None,
) -> None:
    """Verify a live Celery fleet against a suite."""
    suite, target = load_target(suite_file, broker, result_backend)
    summary = execute(suite, target, Outputs(output_format, summary_path), run_id)
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
