"""adobe.byok, campaign.window, campaign.endpoint, campaign.trigger: the Adobe side of the chain."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diagnose.adobe.campaign import campaign_kind, window_problem
from diagnose.answers import Fields, UnexpectedAnswer
from diagnose.azure.keyvault import versionless_key_uri
from diagnose.checks import reads
from diagnose.checks.base import Check, Context, Outcome, Skip, finding
from diagnose.errors import CredentialRefused
from diagnose.model import Severity, Status
from diagnose.payload.service import outcome_findings

if TYPE_CHECKING:
    from diagnose.payload.request import ParsedRequest

PROBE_ADDRESS = "diagnose-probe@example.com"  # a reserved domain: nothing is ever delivered there
# Findings that explain a 500 from the execution API (the storage behind it is refused).
STORAGE_CAUSES = ("cosmos.revoked.", "cosmos.dataplane-role-missing", "byok.failed", "principal.")


def check_byok(ctx: Context) -> Outcome:
    if ctx.profile.topology != "adobe":
        raise Skip("topology own: no Experience Platform BYOK configuration to read")
    name = ctx.require("byok_config", "BYOK configuration name")
    registration = reads.byok_app_registration(ctx)
    config = Fields(
        ctx.memo(f"adobe:byok:{name}", lambda: ctx.adobe.byok_config(name)),
        f"Experience Platform's answer for the BYOK configuration {name}",
    )
    data = config.obj_or_empty("configData")
    status = config.text("status")
    key_identifier = data.opt_text("keyVaultKeyIdentifier")
    evidence = {
        "config": name,
        "status": status,
        "keyVaultKeyIdentifier": key_identifier,
        "application": registration.opt_text("name"),
        "applicationId": registration.opt_text("applicationId"),
    }
    findings = []
    if status.upper() == "FAILED":
        findings.append(
            finding(
                "byok.failed",
                f"Experience Platform reports the BYOK configuration {name!r} as FAILED",
                **evidence,
            )
        )
    elif status.upper() in ("RUNNING", "UPDATE_EXISTING_RESOURCES"):
        findings.append(
            finding("byok.in-progress", f"the BYOK configuration is {status}", Severity.WARN)
        )
    key_id = ctx.profile.key_id
    if (
        key_id
        and key_identifier
        and versionless_key_uri(key_identifier) != versionless_key_uri(key_id)
    ):
        findings.append(
            finding("byok.key-mismatch", f"Experience Platform uses {key_identifier}, not {key_id}")
        )
    return Outcome(f"BYOK status {status or 'unknown'}", findings, evidence)


def _campaign(ctx: Context) -> dict[str, Any]:
    from diagnose.adobe.client import AdobeError

    campaign_id = ctx.require("campaign_id", "campaign")
    try:
        return ctx.memo(f"adobe:campaign:{campaign_id}", lambda: ctx.adobe.campaign(campaign_id))
    except AdobeError as exc:  # Adobe's own words, in its error shape
        if exc.status == 404:
            raise CampaignMissing(campaign_id) from None
        raise UnexpectedAnswer(f"{exc}; the campaign could not be read") from None


class CampaignMissing(Exception):
    pass


def check_window(ctx: Context) -> Outcome:
    try:
        definition = _campaign(ctx)
    except CampaignMissing as missing:
        return Outcome(
            "the campaign was not found",
            [
                finding(
                    "campaign.not-found", f"no campaign {missing} in this organization and sandbox"
                )
            ],
        )
    schedule = definition.get("schedule") or {}
    evidence = {
        "campaign": definition.get("name") or definition.get("id"),
        "status": definition.get("status"),
        "startDate": schedule.get("startDate") if schedule.get("startDateEnabled", True) else None,
        "endDate": schedule.get("endDate") if schedule.get("endDateEnabled", True) else None,
        "now": ctx.options.now.isoformat(timespec="seconds"),
    }
    problem = window_problem(definition, ctx.options.now)
    if problem:
        code, message = problem
        return Outcome(message, [finding(code, message, **evidence)], evidence)
    return Outcome("live, and now is inside its dates", [], evidence)


# What `campaign.endpoint` takes from the payload rules: the body, not the pasted headers
# (the tool calls with its own credential, method and request ids).
PAYLOAD_RULES = (
    "payload.body-missing",
    "payload.field-missing",
    "payload.field-invalid",
    "payload.recipients-count",
    "payload.recipients-duplicate",
    "payload.channel-data-mismatch",
    "payload.campaign-id-differs",
    "payload.personalization-missing",
    "payload.path-unknown",
    "campaign.recipients-not-allowed",
)
ENDPOINT_CAUSES = ("campaign.endpoint-mismatch", *PAYLOAD_RULES)
# campaign.not-found, or what diagnose.adobe.campaign.window_problem names
WINDOW_CAUSES = ("campaign.not-found", "campaign.not-live", "campaign.outside-window")


def check_endpoint(ctx: Context) -> Outcome:
    from diagnose.payload import check as payload_check

    try:
        definition = _campaign(ctx)
    except CampaignMissing:
        raise Skip("the campaign was not found (see campaign.window)") from None
    kind = campaign_kind(definition)
    request = configured_request(ctx)
    configured = ctx.profile.execution_kind or (request.kind if request is not None else None)
    evidence: dict[str, Any] = {"campaign_kind": kind, "execution_kind": configured}
    if kind is None:
        raise Skip(
            "the campaign definition does not say whether it is standard, high-throughput or audience"
        )
    findings = []
    if configured and configured != kind:
        message = (
            f"the configured calls go to /im/executions/{configured} but the campaign is {kind}: "
            f"its endpoint is /im/executions/{kind}"
        )
        findings.append(finding("campaign.endpoint-mismatch", message, **evidence))
    if request is not None:
        evidence["payload"] = ctx.profile.payload
        rules = payload_check(request, definition, ctx.options.now, kind=configured or kind)
        findings += [f for f in rules if f.code in PAYLOAD_RULES]
    if findings:
        return Outcome("; ".join(f.message for f in findings)[:300], findings, evidence)
    if not configured:
        return Outcome(
            f"campaign kind {kind}; no execution_kind or payload configured to compare",
            [],
            evidence,
        )
    checked = " and the payload follows its rules" if request is not None else ""
    return Outcome(f"/im/executions/{kind} matches the campaign{checked}", [], evidence)


def configured_request(ctx: Context) -> ParsedRequest | None:
    """The profile's payload file (a cURL command or a JSON payload), parsed once per run; None if unset."""
    from diagnose.payload import PayloadSyntaxError, parse_input

    path = ctx.profile.payload
    if not path:
        return None

    def load() -> ParsedRequest:
        from diagnose.files import TooLarge, read_limited
        from diagnose.payload.request import MAX_INPUT_BYTES

        try:
            text = read_limited(path, MAX_INPUT_BYTES, f"the payload file {path}").decode("utf-8")
        except TooLarge as exc:
            raise Skip(str(exc)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise Skip(f"cannot read the payload file {path}: {exc}") from None
        try:
            return parse_input(text, base_dir=Path(path).parent)
        except PayloadSyntaxError as exc:
            raise Skip(
                f"the payload file {path} cannot be parsed ({exc}); see `diagnose payload check`"
            ) from None

    return ctx.memo("payload:parsed", load)


def _payload(ctx: Context, kind: str) -> dict[str, Any]:
    campaign_id = ctx.require("campaign_id", "campaign")
    request = configured_request(ctx)
    if request is not None:
        if not isinstance(request.payload, dict):
            raise Skip(f"the payload file {ctx.profile.payload} holds no JSON payload")
        payload = copy.deepcopy(request.payload)
    elif kind == "audience":
        raise Skip(
            "an audience campaign sends to its whole audience: configure a payload file to trigger it"
        )
    else:
        recipient: dict[str, Any] = {
            "type": "external" if kind == "highthroughput" else "aep",
            "namespace": "email",
            "userId": PROBE_ADDRESS,
            "channelData": {"emailAddress": PROBE_ADDRESS},
        }
        payload = {"campaignId": campaign_id, "recipients": [recipient]}
    payload["requestId"] = f"diagnose-{uuid.uuid4().hex}"  # never reuse one: a de-duplication key
    return payload


CHAIN = (
    "principal.enabled",
    "roles.keyvault",
    "roles.cosmos",
    "keyvault.vault",
    "keyvault.key",
    "adobe.byok",
    "cosmos.cmk",
    "cosmos.dataplane",
)


def _storage_causes(ctx: Context) -> list[str]:
    """Fail findings that explain a 500, in causal-chain order (root cause first)."""
    codes: list[str] = []
    for check_id in CHAIN:
        result = ctx.results.get(check_id)
        for f in result.findings if result else []:
            if (
                f.severity is Severity.FAIL
                and f.code.startswith(STORAGE_CAUSES)
                and f.code not in codes
            ):
                codes.append(f.code)
    return codes


def _explain_500(status: int, causes: list[str]) -> str:
    if not causes:
        return f"the execution API answered {status} with no cause found in the Azure chain"
    revoked = [c for c in causes if c.startswith("cosmos.revoked.")]
    if revoked:
        message = f"the execution API answered {status} because the Cosmos DB account behind it is revoked ({revoked[0]})"
    else:
        message = (
            f"the execution API answered {status} because its storage is refused ({causes[-1]})"
        )
    return message + (f"; root cause: {causes[0]}" if causes[0] not in message else "")


def check_trigger(ctx: Context) -> Outcome:
    if not ctx.options.trigger:
        raise Skip("runs only with --trigger (one real execution call)")
    kind = ctx.profile.execution_kind
    if not kind:
        try:
            kind = campaign_kind(_campaign(ctx)) or "unitary"
        except CampaignMissing:
            raise Skip("the campaign was not found (see campaign.window)") from None
    payload = _payload(ctx, kind)
    outcome = ctx.adobe.execute(kind, payload, ctx.options.trigger_deadline_s)
    # One reading of an execution's answer, shared with `diagnose payload send`.
    findings, refused = outcome_findings(outcome, ctx.options.trigger_deadline_s)
    if refused:
        raise CredentialRefused(refused)
    evidence: dict[str, Any] = {
        "endpoint": f"/im/executions/{kind}",
        **(findings[0].evidence if findings else {}),
    }
    evidence.setdefault("requestId", outcome.request_id)
    evidence.setdefault("http_status", outcome.status)
    if not findings:
        evidence["executionId"] = outcome.execution_id
        return Outcome(f"{outcome.status}, executionId {outcome.execution_id}", [], evidence)
    (found,) = findings
    if found.code == "campaign.server-error":
        causes = _storage_causes(ctx)
        evidence["caused_by"] = causes
        found.message = _explain_500(outcome.status or 500, causes)
    elif found.code == "campaign.call-rejected":
        earlier = [
            f.code
            for cid in ("campaign.window", "campaign.endpoint")
            if (r := ctx.results.get(cid)) and r.status is Status.FAIL
            for f in r.findings
        ]
        if earlier:  # the rejection is what the campaign checks above predicted
            found.code = earlier[0]
            found.message += f" (see {earlier[0]})"
    found.evidence = evidence
    return Outcome(found.message, [found], evidence)


ADOBE_BYOK = Check(
    id="adobe.byok",
    title="Experience Platform's BYOK configuration status",
    run=check_byok,
    causes=("byok.failed", "byok.in-progress", "byok.key-mismatch"),
    permissions=("Adobe Developer Console project with Experience Platform access",),
    topologies=("adobe",),
    uses_azure=False,
)
CAMPAIGN_WINDOW = Check(
    id="campaign.window",
    title="The campaign is live and inside its dates",
    run=check_window,
    causes=WINDOW_CAUSES,
    permissions=("Adobe Journey Optimizer campaign read",),
    uses_azure=False,
)
CAMPAIGN_ENDPOINT = Check(
    id="campaign.endpoint",
    title="The execution endpoint matches the campaign kind",
    run=check_endpoint,
    causes=ENDPOINT_CAUSES,
    permissions=("Adobe Journey Optimizer campaign read",),
    uses_azure=False,
)
CAMPAIGN_TRIGGER = Check(
    id="campaign.trigger",
    title="One real execution call (only with --trigger)",
    run=check_trigger,
    # what an execution's answer means, or the campaign check above that predicted a rejection
    causes=(
        "call.timeout",
        "campaign.server-error",
        "campaign.call-rejected",
        *WINDOW_CAUSES,
        *ENDPOINT_CAUSES,
    ),
    # Reads the campaign (its kind) as campaign.window does; proves with one execution call, which
    # the Journey Optimizer API's product profile must allow (Adobe's "Authentication" page of the
    # Journey Optimizer APIs, Permissions: developer.adobe.com/journey-optimizer-apis/references/authentication).
    permissions=("Adobe Journey Optimizer campaign read",),
    prove_permissions=("Adobe Journey Optimizer campaign execution",),
    only_with_trigger=True,
    uses_azure=False,
)
