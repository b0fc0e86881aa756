"""SARIF 2.1.0 for GitHub code scanning (`run --output sarif`, single account or `--all`).

A rule per cause code of the catalogue (stable `ruleIndex`), with the runbook step as its help;
a result per cause found on a resource, its level from the cause's severity. Code scanning
shows no result without a file (docs/research/audit-and-inventory-shapes.md §7): each result
points at the profile file the run read, relative to the working directory, or at the pinned
placeholder `diagnose.toml`, line 1. The resource (the Cosmos DB account's ARM id) is the
result's logical location, and `partialFingerprints` hash the cause code and the resource, so
the same finding on the same account is the same alert in every run. Accounts the tool could
not decide are the invocation's notifications, never results.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diagnose import __version__, catalogue
from diagnose.model import DiagnosisEntry, Severity
from diagnose.profile import Profile
from diagnose.remediation import display_lines
from diagnose.render.style import Styler
from diagnose.usecases.fleet import FleetReport
from diagnose.usecases.run import RunReport

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
PLACEHOLDER = "diagnose.toml"
FINGERPRINT = "diagnose/causeOnResource/v1"
LEVEL = {Severity.FAIL: "error", Severity.WARN: "warning", Severity.INFO: "note"}


@dataclass(frozen=True)
class Subject:
    """What a set of causes was found on: a resource id and name, and why it is undecided (if so)."""

    resource: str
    name: str
    entries: Sequence[DiagnosisEntry]
    undecided: str | None = None


def artifact_uri(profile: Profile | None, cwd: Path | None = None) -> str:
    """The profile file the run read, relative to `cwd` (a repository path), else the placeholder."""
    if profile is None or profile.path is None:
        return PLACEHOLDER
    try:
        return profile.path.resolve().relative_to((cwd or Path.cwd()).resolve()).as_posix()
    except ValueError:
        return PLACEHOLDER


def fingerprint(code: str, resource: str) -> str:
    return hashlib.sha256(f"{code}|{resource.lower()}".encode()).hexdigest()


def _rules(cat: catalogue.Catalogue) -> list[dict[str, Any]]:
    rules = []
    for code in sorted(cat.causes):
        cause = cat.causes[code]
        runbook = cat.runbook(cause.runbook)
        step = runbook.step(cause.step) if cause.step else None
        where = f"Runbook {runbook.id}" + (f", step {step.number}: {step.title}" if step else "")
        help_lines = [where, *(step.text.strip().splitlines() if step and step.text else [])]
        help_lines += [line.strip() for line in display_lines(list(cause.remediation))]
        rules.append(
            {
                "id": code,
                "shortDescription": {"text": cause.title[:1024]},
                "fullDescription": {"text": f"{cause.title}. {where}"[:1024]},
                "help": {"text": "\n".join(help_lines)},
                "defaultConfiguration": {"level": LEVEL[cause.severity]},
                "properties": {
                    "tags": ["azure", "customer-managed-key", runbook.id],
                    "precision": "high",
                    "problem.severity": "error" if cause.severity is Severity.FAIL else "warning",
                },
            }
        )
    return rules


def document(subjects: Iterable[Subject], artifact: str, exit_status: int) -> dict[str, Any]:
    cat = catalogue.default()
    rules = _rules(cat)
    index = {r["id"]: i for i, r in enumerate(rules)}
    results: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for subject in subjects:
        if subject.undecided:
            notes.append(
                {
                    "level": "error",
                    "message": {"text": f"{subject.name}: could not decide: {subject.undecided}"},
                    "locations": [{"logicalLocations": [_logical(subject)]}],
                }
            )
        for entry in subject.entries:
            digest = fingerprint(entry.code, subject.resource)
            results.append(
                {
                    "ruleId": entry.code,
                    "ruleIndex": index[entry.code],
                    "level": LEVEL[entry.severity],
                    "message": {"text": f"{subject.name}: {entry.title}. {entry.message}".strip()},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": artifact},
                                "region": {"startLine": 1, "startColumn": 1, "endColumn": 2},
                            },
                            "logicalLocations": [_logical(subject)],
                        }
                    ],
                    "partialFingerprints": {
                        "primaryLocationLineHash": f"{digest[:16]}:1",
                        FINGERPRINT: digest,
                    },
                    "properties": {"resource": subject.resource},
                }
            )
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "diagnose",
                        "semanticVersion": __version__,
                        "version": f"{__version__} (catalogue {cat.version})",
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": "diagnose/"},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "exitCode": exit_status,
                        "toolExecutionNotifications": notes,
                    }
                ],
                "results": results,
            }
        ],
    }


def _logical(subject: Subject) -> dict[str, str]:
    return {"fullyQualifiedName": subject.resource, "name": subject.name, "kind": "resource"}


def render_run(report: RunReport, style: Styler | None = None) -> str:
    """One account (or vault, with topology adobe): the profile's resource is the subject."""
    p = report.profile
    resource = p.cosmos_id or p.keyvault_id or p.key_id or f"profile {p.name}"
    reasons = [c.limitation.reason for c in report.limitations if c.limitation]
    subject = Subject(
        resource, resource.rstrip("/").split("/")[-1], report.diagnosis, "; ".join(reasons) or None
    )
    return _text(document([subject], artifact_uri(p), int(report.exit_status)))


def render_fleet(report: FleetReport, style: Styler | None = None) -> str:
    subjects = [
        Subject(v.id, v.run.account.name, v.entries, v.reason if v.status == "undecided" else None)
        for v in report.verdicts
    ]
    return _text(document(subjects, artifact_uri(report.profile), int(report.exit_status)))


def _text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"
