"""All the payload rules in one call: `check(parsed, campaign=None, now=...) -> list[Finding]`.

Pure: no network, no printing. `diagnose payload`, `diagnose run` and the
runbook walk's retest call it with what they fetched.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from diagnose.model import Finding, Severity
from diagnose.payload import campaign as campaigns
from diagnose.payload import endpoints, rules
from diagnose.payload.ledger import Ledger
from diagnose.payload.request import ParsedRequest


def check(
    parsed: ParsedRequest,
    campaign: dict[str, Any] | None = None,
    now: datetime | None = None,
    *,
    kind: str | None = None,
    ledger: Ledger | None = None,
    profile: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Findings for a parsed request.

    `kind` is used when the request does not name one (a bare JSON payload);
    `campaign` is the campaign's definition when it could be fetched; `profile`
    (the profile's values) adds the comparisons with the configured org,
    sandbox, campaign and host; `ledger` enables the reused-request-id rule.
    """
    kind = parsed.kind or kind
    findings = rules.request_line(parsed) + rules.headers(parsed)
    findings += rules.payload(parsed, kind, ledger)
    if profile is not None:
        if parsed.host and not host_differs(parsed, profile.get("platform_url")):
            # the profile's own (custom) platform is not an unknown host
            findings = [f for f in findings if f.code != "payload.host-unknown"]
        findings += against_profile(parsed, profile)
    if campaign is not None:
        findings += campaigns.compare(campaign, kind, parsed.payload, now or datetime.now(UTC))
    return findings


def host_differs(parsed: ParsedRequest, platform_url: str | None) -> bool:
    """True when the cURL names a host and it is not the host of `platform_url`."""
    host = urlsplit(platform_url or "").hostname
    return bool(parsed.host and host and parsed.host != host)


def against_profile(parsed: ParsedRequest, profile: Mapping[str, str]) -> list[Finding]:
    """Where the cURL disagrees with the profile the tool would call with (warnings)."""
    findings = []
    platform_host = urlsplit(profile.get("platform_url") or "").hostname
    if host_differs(parsed, profile.get("platform_url")):
        findings.append(
            Finding(
                "payload.host-differs",
                f"the cURL calls {parsed.host} ({parsed.host_class}) but the profile's "
                f"platform is {platform_host} ({endpoints.host_class(profile['platform_url'])}); "
                "diagnose calls the profile's platform",
                severity=Severity.WARN,
                evidence={"curl_host": parsed.host, "profile_host": platform_host},
            )
        )
    for header, key in (("x-gw-ims-org-id", "ims_org"), ("x-sandbox-name", "sandbox")):
        value = parsed.header(header)
        expected = profile.get(key)
        present = bool(value) and rules.header_state(header, value) == "present"
        if expected and present and value != expected:
            findings.append(
                Finding(
                    "payload.header-differs",
                    f"the cURL's {header} is {value!r} but the profile's {key} is {expected!r}",
                    severity=Severity.WARN,
                    evidence={"header": header, "curl": value, "profile": expected},
                )
            )
    payload = parsed.payload or {}
    campaign_id = payload.get("campaignId")
    expected = profile.get("campaign_id")
    if expected and isinstance(campaign_id, str) and campaign_id and campaign_id != expected:
        findings.append(
            Finding(
                "payload.campaign-id-differs",
                f"the payload's campaignId {campaign_id} is not the profile's campaign_id {expected}",
                severity=Severity.WARN,
                evidence={"payload": campaign_id, "profile": expected},
            )
        )
    return findings
