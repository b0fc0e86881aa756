"""`diagnose run --all --output junit`: a test suite per account (its checks as test cases)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from diagnose.render import run_junit
from diagnose.render.style import Styler
from diagnose.usecases.fleet import FleetReport


def render(report: FleetReport, style: Styler | None = None) -> str:
    suites = ET.Element(
        "testsuites",
        name="diagnose --all",
        tests=str(len(report.verdicts)),
        failures=str(report.count("failing")),
        errors=str(report.count("undecided")),
        time=f"{report.duration_ms / 1000:.3f}",
    )
    for v in report.verdicts:
        account = v.run.account
        if v.run.report is not None:
            suite = ET.fromstring(run_junit.render(v.run.report).split("\n", 1)[1])
        else:
            suite = ET.Element("testsuite", tests="1", failures="0", errors="1", skipped="0")
            case = ET.SubElement(suite, "testcase", classname="diagnose.fleet", name="account")
            ET.SubElement(
                case, "error", message=v.reason or "not run", type="limitation"
            ).text = v.reason
        suite.set("name", account.name)
        suite.set("id", account.id)
        for case in suite.iter("testcase"):
            case.set("classname", f"{account.name}.{case.get('classname', '')}")
        for entry, acceptance in v.accepted:  # accepted by the baseline: shown, not failed
            ET.SubElement(suite, "properties").append(
                ET.Element("property", name=f"accepted:{entry.code}", value=acceptance.reason)
            )
        suites.append(suite)
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
