"""One request assessed: the payload rules, the campaign comparison, the test call, the report.

The glue `diagnose payload check|send` (and a retest that reuses them) runs:
no printing here, and no network except through the AdobeClient it is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from diagnose.adobe.client import AdobeClient, ExecutionOutcome
    from diagnose.model import Finding
    from diagnose.payload.document import PayloadReport
    from diagnose.payload.ledger import Ledger
    from diagnose.payload.request import ParsedRequest
    from diagnose.profile import Profile

RANK = {"campaign": 0, "payload": 1, "call": 2}  # the causal order of the diagnosis


class Assessment:
    """Findings about one request, with the campaign (when fetched), ready for the report."""

    def __init__(self, parsed: ParsedRequest, kind: str | None, label: str, command: str) -> None:
        from diagnose import catalogue
        from diagnose.payload.document import request_summary

        self.parsed = parsed
        self.kind = kind
        self.findings: list[tuple[str, Finding]] = []
        self.definition: dict[str, Any] | None = None
        self.campaign_note: str | None = None
        self.limitation: str | None = None
        self.execution: dict[str, Any] | None = None
        self.label = label
        self.command = command
        self.request = request_summary(parsed, kind)
        self.catalogue = catalogue.default()

    def rules(self, profile: Profile | None, ledger: Ledger, lab: bool = False) -> None:
        from diagnose.payload.check import check

        values = dict(profile.values) if profile is not None else None
        if values is not None and lab:
            del values["platform_url"]  # the lab stands in for the cURL's host: no warning
        for finding in check(self.parsed, kind=self.kind, ledger=ledger, profile=values):
            self.findings.append(("payload", finding))

    def campaign(self, profile: Profile, client: AdobeClient) -> None:
        from datetime import UTC, datetime

        from diagnose.payload import campaign as campaigns
        from diagnose.payload.service import fetch_campaign

        payload = self.parsed.payload or {}
        campaign_id = payload.get("campaignId") or profile.campaign_id
        if not isinstance(campaign_id, str) or not campaign_id:
            self.campaign_note = "not compared: no campaignId in the payload or the profile"
            return
        fetched = fetch_campaign(client, campaign_id)
        self.findings += [("campaign", f) for f in fetched.findings]
        if fetched.limitation:
            self.limitation = fetched.limitation
            self.campaign_note = "not compared: the campaign could not be read"
            return
        self.definition = fetched.definition
        if self.definition is not None:
            for finding in campaigns.compare(
                self.definition, self.kind, self.parsed.payload, datetime.now(UTC)
            ):
                self.findings.append(("campaign", finding))

    def blocking(self) -> list[Finding]:
        from diagnose.model import Severity
        from diagnose.payload.service import NOT_BLOCKING

        return [
            f
            for _, f in self.findings
            if f.severity is Severity.FAIL and f.code not in NOT_BLOCKING
        ]

    def record_call(self, outcome: ExecutionOutcome, deadline_s: float) -> None:
        """What the one execution call answered: findings, limitation and the execution block."""
        from diagnose.payload.service import outcome_findings

        findings, limitation = outcome_findings(outcome, deadline_s)
        self.findings += [("call", f) for f in findings]
        self.limitation = limitation
        self.execution = {
            "endpoint": f"/ajo/im/executions/{outcome.kind}",
            "http_status": outcome.status,
            "executionId": outcome.execution_id,
            "requestId": outcome.request_id,
            "x-request-id": outcome.x_request_id,
            "timed_out": outcome.timed_out,
            "lost": outcome.lost,
            "deadline_s": deadline_s,
            "elapsed_ms": int(outcome.elapsed_s * 1000),
            "response": outcome.body,
        }

    def report(self) -> PayloadReport:
        from diagnose import diagnosis
        from diagnose.payload import campaign as campaigns
        from diagnose.payload.document import PayloadReport, campaign_summary, safe_curl

        entries = diagnosis.build(self.findings, self.catalogue, lambda s: RANK.get(s, len(RANK)))
        entries.sort(key=lambda e: -e.severity.rank)  # problems before warnings, stable otherwise
        return PayloadReport(
            command=self.command,
            source=self.label,
            request=self.request,
            findings=self.findings,
            diagnosis=entries,
            campaign=(
                campaign_summary(self.definition, campaigns.campaign_kind(self.definition))
                if self.definition is not None
                else None
            ),
            campaign_note=self.campaign_note,
            limitation=self.limitation,
            execution=self.execution,
            curl=safe_curl(self.parsed, self.kind, self.parsed.dialect),
            catalogue=self.catalogue.version,
        )
