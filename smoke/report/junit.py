"""`--junit PATH`: JUnit XML for CI dashboards, one testcase per check.

classname = the check's kind, name = its id, time = its duration; a failed check carries its reason
as the failure message and its hint and details as the text. A run that could not run or was
interrupted adds one `runner` testcase in error, so no dashboard shows it green.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from smoke.redact import redact, redact_text
from smoke.report.summary_file import write_atomically
from smoke.results import CheckResult, Status, Summary, Verdict

RUNNER_CASE = "runner"


def _testcase(result: CheckResult) -> ET.Element:
    case = ET.Element(
        "testcase", classname=result.kind, name=result.id, time=f"{result.duration_s:.3f}"
    )
    reason = redact_text(result.reason)
    if result.status in (Status.FAIL, Status.ERROR):
        tag = "failure" if result.status is Status.FAIL else "error"
        outcome = ET.SubElement(case, tag, message=reason, type=result.status.value)
        body = [f"hint: {result.hint}"] if result.hint else []
        if result.details:
            body.append("details: " + json.dumps(redact(result.details), default=str, indent=2))
        outcome.text = redact_text("\n".join(body)) or None
    elif result.status is Status.SKIP:
        ET.SubElement(case, "skipped", message=reason)
    return case


def _runner_case(summary: Summary) -> ET.Element | None:
    if summary.verdict not in (Verdict.ERROR, Verdict.INTERRUPTED):
        return None
    case = ET.Element("testcase", classname=RUNNER_CASE, name=RUNNER_CASE, time="0.000")
    message = redact_text(summary.error) if summary.error else "the run was interrupted"
    ET.SubElement(case, "error", message=message, type=summary.verdict.value)
    return case


def render(summary: Summary) -> str:
    cases = [_testcase(c) for c in summary.checks]
    runner = _runner_case(summary)
    if runner is not None:
        cases.append(runner)
    statuses = [c.status for c in summary.checks]
    attributes = {
        "name": summary.suite,
        "tests": str(len(cases)),
        "failures": str(statuses.count(Status.FAIL)),
        "errors": str(statuses.count(Status.ERROR) + (runner is not None)),
        "skipped": str(statuses.count(Status.SKIP)),
        "time": f"{summary.duration_s:.3f}",
        "timestamp": summary.started_at.isoformat(timespec="seconds"),
    }
    suites = ET.Element("testsuites", {k: v for k, v in attributes.items() if k != "timestamp"})
    suite = ET.SubElement(suites, "testsuite", attributes)
    properties = ET.SubElement(suite, "properties")
    for name, value in {"run_id": summary.run_id, "verdict": summary.verdict.value}.items():
        ET.SubElement(properties, "property", name=name, value=value)
    for name, value in summary.context.items():
        ET.SubElement(properties, "property", name=f"context.{name}", value=redact_text(value))
    suite.extend(cases)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write(summary: Summary, path: str | Path) -> None:
    write_atomically(Path(path), render(summary))
