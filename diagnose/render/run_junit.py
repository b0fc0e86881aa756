"""`diagnose run --output junit`: one testcase per check, for CI test tabs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from diagnose.model import Status
from diagnose.render import cause
from diagnose.render.style import Styler
from diagnose.usecases.run import RunReport


def render(report: RunReport, style: Styler | None = None) -> str:
    """JUnit XML: a failing check's causes in the text form of the one cause renderer."""
    counts = {s: sum(1 for c in report.checks if c.status is s) for s in Status}
    suite = ET.Element(
        "testsuite",
        name="diagnose",
        tests=str(len(report.checks)),
        failures=str(counts[Status.FAIL] + counts[Status.WARN] * (report.fail_on.value == "warn")),
        errors=str(counts[Status.ERROR]),
        skipped=str(counts[Status.SKIP]),
        time=f"{report.duration_ms / 1000:.3f}",
        timestamp=report.started_at.isoformat(timespec="seconds"),
    )
    unproven = {n.check: n for n in report.not_proven}
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
        failing = result.status is Status.FAIL or (
            result.status is Status.WARN and report.fail_on.value == "warn"
        )
        if failing:
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
    ET.indent(suite)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    )
