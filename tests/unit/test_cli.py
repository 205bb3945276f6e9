from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli


def test_validate_ok(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("suite: s\nworkers: [{name: w, queues: [a, b]}]\ncanaries: [{queue: a}]\n")
    result = run_cli("validate", str(suite))
    assert result.returncode == 0
    assert result.stdout.strip() == f"{suite}: ok: suite 's', 1 workers, 2 queues, 1 canaries"


def test_bad_suite_is_one_line_exit_2(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("suite: s\nworkers: [{name: w, queues: [a]}, {name: x, queues: 3}]\n")
    for args in (
        ("validate", str(suite)),
        ("run", "--suite", str(suite), "--broker", "amqp://u:p@h//"),
    ):
        result = run_cli(*args)
        assert result.returncode == 2
        assert (
            result.stderr == f"smoke: error: {suite}: workers[1].queues: input should be a list\n"
        )


def test_run_without_any_broker_is_a_usage_error(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("suite: s\nworkers: [{name: w, queues: [a]}]\n")
    result = run_cli("run", "--suite", str(suite))
    assert result.returncode == 2
    assert "no broker: set CELERY_BROKER_URL" in result.stderr


def test_unknown_option_exit_2_without_traceback() -> None:
    result = run_cli("run", "--bogus")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
