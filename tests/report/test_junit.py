from __future__ import annotations

from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from smoke.errors import UsageError
from smoke.report import junit
from smoke.report.summary_file import check_writable
from smoke.results import errored, failed, passed, skipped
from tests.report.summaries import make_summary


def load(path: Path) -> JUnitXml:
    return JUnitXml.fromfile(str(path))


def test_round_trips_through_junitparser_with_the_right_counts(tmp_path: Path) -> None:
    summary = make_summary(
        (
            passed("ping:scan-worker").timed(1.25),
            failed(
                "queue:scan.reward",
                "no consumer on scan.reward",
                "add scan.reward to -Q",
                consumers=0,
            ).timed(2.5, attempts=3),
            errored("canary:scan.vision", "deadline of 5s ran out").timed(5.0),
            skipped("route:scan.rule", "no worker to ask"),
        )
    )
    path = tmp_path / "reports" / "smoke.xml"
    junit.write(summary, path)
    xml = load(path)
    (suite,) = list(xml)
    assert (suite.name, suite.tests, suite.failures, suite.errors, suite.skipped) == (
        "eco2",
        4,
        1,
        1,
        1,
    )
    assert suite.time == pytest.approx(14.2)
    cases = {case.name: case for case in suite}
    assert list(cases) == [
        "ping:scan-worker",
        "queue:scan.reward",
        "canary:scan.vision",
        "route:scan.rule",
    ]
    assert [c.classname for c in cases.values()] == ["ping", "queue", "canary", "route"]
    assert cases["ping:scan-worker"].is_passed
    assert cases["ping:scan-worker"].time == pytest.approx(1.25)
    (failure,) = cases["queue:scan.reward"].result
    assert isinstance(failure, Failure)
    assert failure.message == "no consumer on scan.reward"
    assert failure.text.startswith("hint: add scan.reward to -Q\ndetails: {")
    assert '"consumers": 0' in failure.text
    (error,) = cases["canary:scan.vision"].result
    assert isinstance(error, Error)
    assert error.message == "deadline of 5s ran out"
    (skip,) = cases["route:scan.rule"].result
    assert isinstance(skip, Skipped)
    properties = {p.name: p.value for p in suite.properties()}
    assert properties == {
        "run_id": "r7f3a9c2e1d0",
        "verdict": "fail",
        "context.env": "prod",
        "context.app": "scan",
        "context.revision": "1a2b3c",
    }


def test_a_run_that_could_not_run_is_never_green(tmp_path: Path) -> None:
    why = "broker refused our login at amqp://guest:s3cret@127.0.0.1:5672//"
    summary = make_summary((skipped("ping:a", "not reached"),), error=why)
    path = tmp_path / "smoke.xml"
    junit.write(summary, path)
    (suite,) = list(load(path))
    assert (suite.tests, suite.errors, suite.skipped) == (2, 1, 1)
    runner = next(c for c in suite if c.name == junit.RUNNER_CASE)
    (error,) = runner.result
    assert error.message == "broker refused our login at amqp://guest:**@127.0.0.1:5672//"
    assert "s3cret" not in path.read_text()


def test_unwritable_paths_are_refused_before_the_run(tmp_path: Path) -> None:
    check_writable(tmp_path / "new" / "dir" / "smoke.xml")
    assert (tmp_path / "new" / "dir").is_dir()
    with pytest.raises(UsageError, match="is a directory"):
        check_writable(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError, match=r"cannot write .*file/smoke.xml"):
        check_writable(blocker / "smoke.xml")
