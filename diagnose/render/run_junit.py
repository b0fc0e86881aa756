"""`diagnose run --output junit`: one testcase per check, for CI test tabs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from diagnose.model import Severity, Status
from diagnose.render import cause
from diagnose.render.style import Styler
from diagnose.usecases.run import RunReport


def render(report: RunReport, style: Styler | None = None) -> str:
    """JUnit XML: a failing check's causes in the text form of the one cause renderer."""
    accepted = {e.code: a.reason for e, a in report.gate.accepted} if report.gate else {}
    found = suite(report, accepted)
    ET.indent(found)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(found, encoding="unicode") + "\n"
    )


def suite(report: RunReport, accepted: Mapping[str, str]) -> ET.Element:
    """The run's test suite, a check per test case. A failing check whose every failing
    finding a baseline accepts (`accepted`: code -> its reason) is skipped, not failed: the
    gate passes, and so does the CI's test tab."""
    suite = ET.Element(
        "testsuite",
        name="diagnose",
        time=f"{report.duration_ms / 1000:.3f}",
        timestamp=report.started_at.isoformat(timespec="seconds"),
    )
    unproven = {n.check: n for n in report.not_proven}
    warn_fails = report.fail_on.value == "warn"
    for result in report.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"diagnose.{result.id.split('.')[0]}",
            name=result.id,
            time=f"{result.duration_ms / 1000:.3f}",
        )
        lines = [
            cause.text(
                entry,
                n,
                evidence=[f.message, "evidence: " + json.dumps(f.evidence, default=str)]
                if f.evidence
                else None,
            )
            for n, f in enumerate(result.findings, 1)
            for entry in cause.entries_of([(result.id, f)])
        ]
        failing = result.status is Status.FAIL or (result.status is Status.WARN and warn_fails)
        gating = {
            f.code
            for f in result.findings
            if f.severity is Severity.FAIL or (f.severity is Severity.WARN and warn_fails)
        }
        if failing and gating and gating <= set(accepted):
            reasons = "; ".join(f"{code}: {accepted[code]}" for code in sorted(gating))
            ET.SubElement(case, "skipped", message=f"accepted by the baseline ({reasons})")
        elif failing:
            ET.SubElement(
                case, "failure", message=result.summary, type=result.status.value
            ).text = "\n".join(lines)
        elif result.id in unproven:
            n = unproven[result.id]
            ET.SubElement(
                case, "error", message=cause.not_proven(n.check, n.needs), type="not-proven"
            ).text = result.summary
        elif result.status is Status.ERROR:
            permission = result.limitation.permission if result.limitation else None
            text = result.summary + (f"\nmissing permission: {permission}" if permission else "")
            ET.SubElement(case, "error", message=result.summary, type="limitation").text = text
        elif result.status is Status.SKIP:
            ET.SubElement(case, "skipped", message=result.summary)
        else:
            ET.SubElement(case, "system-out").text = result.summary + (
                "\n" + "\n".join(lines) if lines else ""
            )
    set_totals(suite)
    return suite


def set_totals(element: ET.Element) -> None:
    """The `tests`, `failures`, `errors` and `skipped` of a suite, or of a whole document: its
    test cases, counted (what CI systems add up)."""
    cases = list(element.iter("testcase"))
    element.set("tests", str(len(cases)))
    for counted, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        element.set(counted, str(sum(1 for c in cases if c.find(tag) is not None)))
