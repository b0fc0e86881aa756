"""The execution API's rules for the request line, the headers and the payload (Adobe's
Interactive Message Execution API reference and the "execute an API-triggered campaign" page;
see docs/design.md, "Sources").

Every rule returns Findings with catalogue cause codes. No message ever holds
the value of a secret header: only its name and whether it looks usable.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, TypeGuard

from diagnose.model import Finding, Severity
from diagnose.payload import endpoints
from diagnose.payload.ledger import Ledger
from diagnose.payload.request import ParsedRequest

MAX_RECIPIENTS = 20
REQUIRED_HEADERS = ("Authorization", "x-api-key", "x-gw-ims-org-id", "x-sandbox-name")
ALLOWED_TYPES = {"unitary": ("aep", "external"), "highthroughput": ("external",)}

_PLACEHOLDER = re.compile(
    r"^(?:\{\{?[^{}]*\}?\}|<[^<>]*>|\[[^\[\]]*\]|\.{3}|x{3,}|\*+)$"
    r"|your[_\- ]|replace|placeholder|changeme|insert[_\- ]",
    re.I,
)
_VARIABLE = re.compile(r"^(?:\$\{?\w+\}?|%\w+%|\$env:\w+|\$\(.*\))$", re.I)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-.]{5,}$")


def header_state(name: str, value: str | None) -> str:
    """present, missing, placeholder (copied unfilled) or variable (a shell variable, unchecked)."""
    if value is None:
        return "missing"
    if name.lower() == "authorization":
        scheme, _, value = value.strip().partition(" ")
        if scheme.lower() != "bearer":
            return "placeholder"
    value = value.strip()
    if not value or _PLACEHOLDER.search(value):
        return "placeholder"
    if _VARIABLE.match(value):
        return "variable"
    return "present"


def request_line(request: ParsedRequest) -> list[Finding]:
    """Method, host and path of a cURL request."""
    if request.format != "curl":
        return []
    findings = []
    if request.method != "POST":
        findings.append(
            Finding(
                "payload.method",
                f"the request uses {request.method}; executions are POST requests",
                evidence={"method": request.method},
            )
        )
    host_class = request.host_class
    if host_class == endpoints.UNKNOWN:
        findings.append(
            Finding(
                "payload.host-unknown",
                f"{request.host or 'the URL'} is not an Adobe Experience Platform host "
                "(platform.adobe.io, platform-stage.adobe.io)",
                severity=Severity.WARN,
                evidence={"host": request.host},
            )
        )
    elif host_class == endpoints.LEGACY:
        findings.append(
            Finding(
                "payload.host-legacy",
                f"{request.host} is the legacy execution host; use platform.adobe.io/ajo",
                severity=Severity.WARN,
                evidence={"host": request.host},
            )
        )
    if request.kind is None:
        findings.append(
            Finding(
                "payload.path-unknown",
                f"{request.path or '/'} is not an execution endpoint "
                "(/ajo/im/executions/unitary, /highthroughput or /audience)",
                evidence={"path": request.path},
            )
        )
    return findings


def headers(request: ParsedRequest) -> list[Finding]:
    """The headers the execution API needs, present and filled in."""
    if request.format != "curl":
        return []
    findings = []
    for name in REQUIRED_HEADERS:
        state = header_state(name, request.header(name))
        if state == "missing":
            findings.append(
                Finding(
                    "payload.header-missing",
                    f"the {name} header is missing",
                    evidence={"header": name},
                )
            )
        elif state == "placeholder":
            findings.append(
                Finding(
                    "payload.header-placeholder",
                    f"the {name} header still holds a placeholder, not a value",
                    evidence={"header": name},
                )
            )
    content_type = request.header("Content-Type")
    if content_type is None or "json" not in content_type.lower():
        findings.append(
            Finding(
                "payload.content-type",
                "the Content-Type header is "
                + (f"{content_type!r}" if content_type else "missing")
                + "; the body is JSON (Content-Type: application/json)",
                severity=Severity.WARN,
                evidence={"content_type": content_type},
            )
        )
    return findings


def payload(
    request: ParsedRequest, kind: str | None, ledger: Ledger | None = None
) -> list[Finding]:
    """Required fields, recipients and request ids of the body, for an execution of `kind`."""
    body = request.body
    if body is None:
        return [Finding("payload.body-missing", "the request has no body (-d or --data-raw)")]
    if not isinstance(body, dict):
        return [_invalid("the body", "a JSON object")]
    rules_kind = kind or ("unitary" if "recipients" in body else "audience")
    findings = []
    if not _nonempty_str(body.get("campaignId")):
        findings.append(_missing_or_invalid(body, "campaignId", "a non-empty string"))
    findings += _request_ids(request, body, rules_kind, ledger)
    if rules_kind == "audience":
        if "recipients" in body:
            findings.append(
                Finding(
                    "campaign.recipients-not-allowed",
                    "an audience execution targets its audience; it takes no recipients",
                    evidence={"kind": "audience"},
                )
            )
        return findings
    return findings + _recipients(body, rules_kind)


def _request_ids(
    request: ParsedRequest, body: dict[str, Any], kind: str, ledger: Ledger | None
) -> list[Finding]:
    findings = []
    request_id = body.get("requestId")
    if request_id is None or request_id == "":
        if kind != "audience":
            findings.append(
                Finding(
                    "payload.request-id-missing",
                    "the payload has no requestId (required for unitary and high-throughput calls)",
                    evidence={"field": "requestId"},
                )
            )
    elif ledger is not None and ledger.contains(str(request_id)):
        findings.append(
            Finding(
                "payload.request-id-reused",
                f"requestId {request_id} was already sent by diagnose; a call with it may be "
                "dropped as a duplicate",
                evidence={"requestId": str(request_id), "ledger": str(ledger.path)},
            )
        )
    x_request_id = request.header("x-request-id")
    if x_request_id and ledger is not None and ledger.contains(x_request_id):
        findings.append(
            Finding(
                "payload.request-id-reused",
                f"x-request-id {x_request_id} was already sent by diagnose",
                evidence={"x-request-id": x_request_id, "ledger": str(ledger.path)},
            )
        )
    return findings


def _recipients(body: dict[str, Any], kind: str) -> list[Finding]:
    recipients = body.get("recipients")
    if not isinstance(recipients, list):
        return [_missing_or_invalid(body, "recipients", "a list of 1 to 20 recipients")]
    findings = []
    if not 1 <= len(recipients) <= MAX_RECIPIENTS:
        findings.append(
            Finding(
                "payload.recipients-count",
                f"the payload has {len(recipients)} recipients; a call takes 1 to {MAX_RECIPIENTS}",
                evidence={"count": len(recipients)},
            )
        )
    allowed = ALLOWED_TYPES.get(kind, ALLOWED_TYPES["unitary"])
    user_ids: list[str] = []
    for index, recipient in enumerate(recipients):
        where = f"recipients[{index}]"
        if not isinstance(recipient, dict):
            findings.append(_invalid(where, "an object"))
            continue
        for name in ("type", "userId", "namespace"):
            if not _nonempty_str(recipient.get(name)):
                findings.append(_missing_or_invalid(recipient, name, "a non-empty string", where))
        rtype = recipient.get("type")
        if _nonempty_str(rtype) and rtype not in allowed:
            findings.append(
                Finding(
                    "campaign.recipients-not-allowed",
                    f"{where} has type {rtype!r}; the {kind} endpoint accepts "
                    + " or ".join(repr(t) for t in allowed),
                    evidence={"recipient": index, "type": rtype, "kind": kind},
                )
            )
        if kind == "highthroughput":
            extra = [
                k for k in ("profile", "mergePolicyName", "mergePolicySchema") if k in recipient
            ]
            if extra:
                findings.append(
                    Finding(
                        "campaign.recipients-not-allowed",
                        f"{where} carries {', '.join(extra)}; high-throughput calls take no "
                        "profile-based personalization",
                        evidence={"recipient": index, "fields": extra, "kind": kind},
                    )
                )
        if _nonempty_str(recipient.get("userId")):
            user_ids.append(recipient["userId"])
        findings += _channel_data(recipient, where, index)
    duplicates = sorted(u for u, n in Counter(user_ids).items() if n > 1)
    if duplicates:
        findings.append(
            Finding(
                "payload.recipients-duplicate",
                f"userId {', '.join(duplicates)} appears more than once",
                evidence={"userIds": duplicates},
            )
        )
    return findings


def _channel_data(recipient: dict[str, Any], where: str, index: int) -> list[Finding]:
    """channelData (and the userId) must fit the namespace: an email namespace takes emails."""
    namespace = str(recipient.get("namespace") or "").lower()
    channel = recipient.get("channelData")
    if channel is not None and not isinstance(channel, dict):
        return [_invalid(f"{where}.channelData", "an object")]
    channel = channel or {}
    problems = []
    if namespace == "email":
        user_id = recipient.get("userId")
        if _nonempty_str(user_id) and not _EMAIL.match(user_id):
            problems.append("its userId is not an email address")
        if "emailAddress" not in channel and {"mobilePhoneNumber", "pushInfo"} & set(channel):
            problems.append("its channelData has no emailAddress")
    elif (
        namespace.startswith("phone")
        and "mobilePhoneNumber" not in channel
        and "emailAddress" in channel
    ):
        problems.append("its channelData has no mobilePhoneNumber")
    address = channel.get("emailAddress")
    if address is not None and not (_nonempty_str(address) and _EMAIL.match(address)):
        problems.append("its channelData.emailAddress is not an email address")
    phone = channel.get("mobilePhoneNumber")
    if phone is not None and not (_nonempty_str(phone) and _PHONE.match(phone)):
        problems.append("its channelData.mobilePhoneNumber is not a phone number")
    if not problems:
        return []
    return [
        Finding(
            "payload.channel-data-mismatch",
            f"{where} (namespace {recipient.get('namespace')!r}): " + "; ".join(problems),
            evidence={"recipient": index, "namespace": recipient.get("namespace")},
        )
    ]


def _nonempty_str(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value.strip())


def _missing_or_invalid(
    holder: dict[str, Any], name: str, expected: str, where: str = "the payload"
) -> Finding:
    if holder.get(name) in (None, ""):
        return Finding(
            "payload.field-missing",
            f"{where} has no {name}",
            evidence={"field": name, "where": where},
        )
    return _invalid(f"{where}.{name}" if where != "the payload" else name, expected)


def _invalid(what: str, expected: str) -> Finding:
    return Finding("payload.field-invalid", f"{what} must be {expected}", evidence={"field": what})
