"""The network side of `diagnose payload`: read the campaign, make the one test call, decode the answer.

Fetching goes through `diagnose.adobe.client.AdobeClient`; judging stays in
`check` and `outcome_findings`. The test call is made at most once: a time-out
is reported, never retried (the service retries internally).
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from diagnose.errors import ToolLimitation
from diagnose.model import Finding
from diagnose.payload.ledger import Ledger

if TYPE_CHECKING:
    from diagnose.adobe.client import AdobeClient, ExecutionOutcome

# Findings about the pasted cURL that do not stop a test call: `send` calls with the profile's
# credential and headers, a POST, and fresh request ids of its own.
NOT_BLOCKING = frozenset(
    {
        "payload.header-missing",
        "payload.header-placeholder",
        "payload.header-differs",
        "payload.content-type",
        "payload.method",
        "payload.request-id-missing",
        "payload.request-id-reused",
    }
)


class LedgerError(Exception):
    """The ledger of sent ids cannot be written: no call is made without recording its ids."""


@dataclass
class CampaignFetch:
    """The campaign definition, or why it is not there: a finding (not found) or a limitation."""

    definition: dict[str, Any] | None = None
    findings: list[Finding] = field(default_factory=list)
    limitation: str | None = None


def fetch_campaign(client: AdobeClient, campaign_id: str) -> CampaignFetch:
    """A 404 is a finding, any other failure the tool's limitation."""
    from diagnose.adobe.client import AdobeError

    try:
        return CampaignFetch(definition=client.campaign(campaign_id))
    except ToolLimitation as exc:
        return CampaignFetch(limitation=f"{exc} (the campaign could not be read)")
    except AdobeError as exc:
        if exc.status == 404:
            return CampaignFetch(
                findings=[
                    Finding(
                        "campaign.not-found",
                        f"no campaign {campaign_id} in this organization and sandbox",
                        evidence={"campaignId": campaign_id},
                    )
                ]
            )
        return CampaignFetch(limitation=f"{exc}; the campaign could not be read")


def fresh_ids(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A copy of `payload` with a new requestId, and a new x-request-id: never a reused one."""
    fresh = copy.deepcopy(payload)
    fresh["requestId"] = f"diagnose-{uuid.uuid4().hex}"
    return fresh, str(uuid.uuid4())


def send_once(
    client: AdobeClient, kind: str, payload: dict[str, Any], deadline_s: float, ledger: Ledger
) -> ExecutionOutcome:
    """One execution call with fresh ids, recorded in the ledger before it leaves. Never retried."""
    fresh, x_request_id = fresh_ids(payload)
    try:
        ledger.record(fresh["requestId"], x_request_id, kind, str(fresh.get("campaignId", "")))
    except OSError as exc:
        raise LedgerError(
            f"cannot record the request ids in {ledger.path}: {exc.strerror}"
        ) from None
    return client.execute(kind, fresh, deadline_s, extra_headers={"x-request-id": x_request_id})


def _gateway_refusal(status: int | None, body: object) -> bool:
    """401/403 from the gateway (error_code 401013, 403000, 403003, ...): the tool's own credential."""
    return status in (401, 403) and isinstance(body, dict) and "error_code" in body


def _in_adobes_words(body: object) -> bool:
    """Whether an error body is one of Adobe's documented error shapes (its own code)."""
    from diagnose.adobe.client import adobe_error_code

    return adobe_error_code(body) is not None


def outcome_findings(
    outcome: ExecutionOutcome, deadline_s: float
) -> tuple[list[Finding], str | None]:
    """(findings, limitation) from an ExecutionOutcome."""
    evidence: dict[str, Any] = {
        "http_status": outcome.status,
        "requestId": outcome.request_id,
        "x-request-id": outcome.x_request_id,
        "elapsed_s": round(outcome.elapsed_s, 2),
    }
    if outcome.timed_out:
        message = (
            f"no answer within {deadline_s:g} s; the service may still deliver (it retries "
            f"internally): diagnose did not resend. Check delivery before any new attempt "
            f"(requestId {outcome.request_id})"
        )
        return [Finding("call.timeout", message, evidence=evidence)], None
    lost = outcome.lost
    if lost:
        evidence["lost"] = lost
        message = (
            f"no answer: {lost}; the service may have received the call and may still deliver "
            f"(it retries internally): diagnose did not resend. Check delivery before any new "
            f"attempt (requestId {outcome.request_id})"
        )
        return [Finding("call.timeout", message, evidence=evidence)], None
    status = outcome.status or 0
    if 200 <= status < 300:
        return [], None
    body = outcome.body
    error = _error_fields(body)
    evidence["error"] = error
    if _gateway_refusal(status, body):
        return [], (
            f"the execution API refused the tool's own credential ({status} "
            f"{error.get('error_code') or ''} {error.get('message') or ''})".strip()
            + "): check DIAGNOSE_ADOBE_CLIENT_ID/SECRET, the org and the sandbox of the profile"
        )
    if status >= 400 and not _in_adobes_words(body):
        # A gateway's or proxy's page (an HTML 502, a bare 404, a 429 without Adobe's body) says
        # nothing about the campaign or its storage: the tool's limitation, said as it happened.
        from diagnose.adobe.client import PLATFORM
        from diagnose.answers import unexplained_status

        said = unexplained_status(PLATFORM, status, None, "the execution call").reason
        return [], (
            f"{said}; the call was sent once and may have been received: diagnose did not "
            f"resend (requestId {outcome.request_id})"
        )
    if status >= 500:
        message = (
            f"the execution API answered {status}: the storage behind the campaign (Cosmos DB, "
            "through the customer-managed key) is the documented cause; run `diagnose run` to "
            "check the key chain"
        )
        return [Finding("campaign.server-error", message, evidence=evidence)], None
    detail = error.get("detail") or error.get("title") or error.get("message") or ""
    if 300 <= status < 400:
        location = outcome.headers.get("location")
        evidence["location"] = location
        detail = (
            f"a redirect{' to ' + location if location else ''}, not followed (following it "
            "would send the call again): point the profile's platform_url at the execution "
            "host itself"
        )
    message = f"the execution API answered {status}" + (f": {detail}" if detail else "")
    return [Finding("campaign.call-rejected", message, evidence=evidence)], None


def _error_fields(body: object) -> dict[str, Any]:
    """The documented fields of an error body (type, title, status, detail, report, error_code)."""
    if not isinstance(body, dict):
        return {"text": str(body)[:500]} if body else {}
    keys = ("type", "title", "status", "detail", "report", "error_code", "message")
    return {k: body[k] for k in keys if k in body}
