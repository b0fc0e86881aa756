"""The values every part of diagnose exchanges: findings, check results, diagnosis entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"


class Severity(StrEnum):
    INFO = "info"
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return {"info": 0, "warn": 1, "fail": 2}[self.value]


@dataclass(frozen=True)
class StepRef:
    """A runbook step: the pointer every cause carries."""

    runbook: str
    step: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.runbook, "step": self.step}


@dataclass
class Finding:
    """Something wrong (or worth a warning) that a check or the scanner established.

    `code` is a cause code of the catalogue; the runbook step and the remediation
    come from there, never from the code that raised the finding.
    """

    code: str
    message: str
    severity: Severity = Severity.FAIL
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class Limitation:
    """Why a check could not decide: the tool's own access or reach, never the customer's setup."""

    reason: str
    permission: str | None = None  # the right the diagnosing identity lacks, when that is why


@dataclass
class CheckResult:
    id: str
    title: str
    status: Status
    summary: str
    duration_ms: int = 0
    findings: list[Finding] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    limitation: Limitation | None = None


@dataclass(frozen=True)
class Undecided:
    """A check earlier in the causal chain that could not decide: a deeper cause may hide there."""

    check: str
    reason: str


@dataclass
class DiagnosisEntry:
    code: str
    title: str
    severity: Severity
    step: StepRef
    remediation: list[str]
    checks: list[str]
    message: str = ""
    # Checks before this cause in the chain that could not decide: it is then a symptom shown,
    # not a root cause established (empty: nothing undecided stands before it).
    undecided_before: list[Undecided] = field(default_factory=list)

    @property
    def decided(self) -> bool:
        return not self.undecided_before
