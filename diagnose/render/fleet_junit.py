"""`diagnose run --all --output junit`: a test suite per account (its checks as test cases)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from diagnose.render import run_junit
from diagnose.render.style import Styler
from diagnose.usecases.fleet import FleetReport


def render(report: FleetReport, style: Styler | None = None) -> str:
    suites = ET.Element(
        "testsuites", name="diagnose --all", time=f"{report.duration_ms / 1000:.3f}"
    )
    for v in report.verdicts:
        account = v.run.account
        if v.run.report is not None:
            accepted = {entry.code: acceptance.reason for entry, acceptance in v.accepted}
            suite = run_junit.suite(v.run.report, accepted)
        else:
            suite = ET.Element("testsuite")
            case = ET.SubElement(suite, "testcase", classname="diagnose.fleet", name="account")
            ET.SubElement(
                case, "error", message=v.reason or "not run", type="limitation"
            ).text = v.reason
            run_junit.set_totals(suite)
        suite.set("name", account.name)
        suite.set("id", account.id)
        for case in suite.iter("testcase"):
            case.set("classname", f"{account.name}.{case.get('classname', '')}")
        if v.accepted:  # accepted by the baseline: shown, not failed (one <properties>, first)
            properties = ET.Element("properties")
            for entry, acceptance in v.accepted:
                properties.append(
                    ET.Element("property", name=f"accepted:{entry.code}", value=acceptance.reason)
                )
            suite.insert(0, properties)
        suites.append(suite)
    run_junit.set_totals(suites)  # test cases, not accounts
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
