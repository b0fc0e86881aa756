"""What `diagnose payload check` / `send` found, as one value the renderers print.

`to_json` is the `diagnose/payload@1` document. Everything that came from the
input or a service passes through `redact_obj` / `redact_text` (catalogue text
does not need to); header values are never part of it in the first place.

Body values are shown only as their shape (`"<string, 12 chars>"`, keys kept)
unless `--show-values` is given (`without_values`): in the ticket cURL, and
wherever a finding or the diagnosis quotes one. `campaignId` and `requestId`
(the campaign and the call) and a recipient's `type` and `namespace` stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, cast

from diagnose import __version__, catalogue
from diagnose.diagnosis import to_json as diagnosis_json
from diagnose.exitstatus import ExitStatus, decide
from diagnose.model import DiagnosisEntry, Finding, Severity
from diagnose.payload import build, rules, variables
from diagnose.payload.request import ParsedRequest
from diagnose.redact import redact_obj, redact_text

SCHEMA = "diagnose/payload@1"
SHOWN_HEADERS = (*rules.REQUIRED_HEADERS, "Content-Type", "x-request-id")
# Shown as they are, at any depth: the identifiers of the campaign and of the call, and the
# recipient's type and namespace (a fixed vocabulary the findings name).
KEPT_VALUES = frozenset({"campaignId", "requestId", "type", "namespace"})
MIN_HIDDEN = 4  # shorter values (`1`, `true`) are not looked for inside messages


def shape(value: object) -> object:
    """A body value as its shape: `"<string, 12 chars>"`, `"<number>"`, …; keys and nesting kept."""
    if isinstance(value, dict):
        return {key: item if key in KEPT_VALUES else shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    if isinstance(value, str):
        return f"<string, {len(value)} chars>"
    if isinstance(value, bool):
        return "<boolean>"
    if isinstance(value, int | float):
        return "<number>"
    return value  # null


def shaped_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with every value but those of KEPT_VALUES as its shape."""
    return cast(dict[str, Any], shape(payload))


def _body_strings(value: object) -> set[str]:
    """Every leaf of a body as text (numbers too: a message prints them as digits), but kept ones."""
    if isinstance(value, dict):
        return set().union(*(_body_strings(v) for k, v in value.items() if k not in KEPT_VALUES))
    if isinstance(value, list):
        return set().union(*(_body_strings(v) for v in value))
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return {str(value)}
    return set()


def hidden_values(payload: dict[str, Any] | None) -> frozenset[str]:
    """The body's values that output must not quote (all but the kept identifiers)."""
    return frozenset(v for v in _body_strings(payload or {}) if len(v) >= MIN_HIDDEN)


class ValueHider:
    """Replaces every hidden value inside text by its shape, with one alternation, longest first."""

    def __init__(self, values: frozenset[str]) -> None:
        ordered = sorted(values, key=len, reverse=True)
        alternation = "|".join(map(re.escape, ordered))
        # whole values only: `name` hidden does not touch `names` or `emailAddress`
        self._pattern = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)") if ordered else None

    def text(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: str(shape(m.group())), text)

    def obj(self, value: object) -> object:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.obj(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.obj(item) for item in value]
        return value


def header_states(request: ParsedRequest) -> list[dict[str, str]]:
    """[{name, state}]: present / missing / placeholder / variable (cURL input only; never values)."""
    if request.format != "curl":
        return []
    states = [
        {"name": name, "state": rules.header_state(name, request.header(name))}
        for name in SHOWN_HEADERS
    ]
    return [s for s in states if s["name"] != "x-request-id" or s["state"] != "missing"]


def request_summary(request: ParsedRequest, kind: str | None) -> dict[str, Any]:
    payload = request.payload or {}
    recipients = payload.get("recipients")
    return {
        "format": request.format,
        "dialect": request.dialect,
        "method": request.method,
        "url": request.url,
        "host": request.host,
        "host_class": request.host_class,
        "kind": kind,
        "kind_from": "url" if request.kind else ("option or profile" if kind else None),
        "headers": header_states(request),
        "body_from": request.body_origin.describe() if request.body_origin else None,
        "requestId": payload.get("requestId"),
        "campaignId": payload.get("campaignId"),
        "recipients": len(recipients) if isinstance(recipients, list) else None,
        "variables": variables.carried(payload),
        "notes": list(request.notes),
    }


def campaign_summary(definition: dict[str, Any], kind: str | None) -> dict[str, Any]:
    schedule = definition.get("schedule") or {}
    return {
        "id": definition.get("id"),
        "name": definition.get("name"),
        "status": definition.get("status"),
        "kind": kind,
        "startDate": schedule.get("startDate") if schedule.get("startDateEnabled") else None,
        "endDate": schedule.get("endDate") if schedule.get("endDateEnabled") else None,
        "variables": variables.used_by(definition),
    }


@dataclass
class PayloadReport:
    command: str  # "check" or "send"
    source: str
    request: dict[str, Any]
    findings: list[tuple[str, Finding]] = field(default_factory=list)  # (source, finding)
    diagnosis: list[DiagnosisEntry] = field(default_factory=list)
    campaign: dict[str, Any] | None = None
    campaign_note: str | None = None  # why the campaign was not compared, when it was not
    limitation: str | None = None  # what the tool itself could not do (exit 3)
    execution: dict[str, Any] | None = None
    curl: str | None = None  # the request again, ticket-safe (secrets as variables)
    catalogue: str = ""
    hidden: frozenset[str] = frozenset()  # body values shown only as their shape (`without_values`)

    @property
    def status(self) -> str:
        worst = max((f.severity.rank for _, f in self.findings), default=-1)
        if worst >= Severity.FAIL.rank:
            return "fail"
        if self.limitation:
            return "error"
        return "warn" if worst >= Severity.WARN.rank else "pass"

    def exit_status(self, fail_on: Severity = Severity.FAIL) -> ExitStatus:
        return decide(
            (f.severity for _, f in self.findings), undecided=bool(self.limitation), fail_on=fail_on
        )

    def redacted_diagnosis(self) -> list[DiagnosisEntry]:
        """The diagnosis to show: titles and remediation are the catalogue's; messages are not."""
        hide = ValueHider(self.hidden)
        return [replace(e, message=hide.text(redact_text(e.message))) for e in self.diagnosis]

    def to_json(self) -> dict[str, Any]:
        diagnosis = diagnosis_json(self.redacted_diagnosis())
        hide = ValueHider(self.hidden)
        return {
            "schema": SCHEMA,
            "version": __version__,
            "catalogue": self.catalogue,
            "command": self.command,
            "source": self.source,
            "status": self.status,
            "request": hide.obj(redact_obj(self.request)),
            "campaign": redact_obj(self.campaign),
            "campaign_note": self.campaign_note,
            "limitation": hide.text(redact_text(self.limitation)) if self.limitation else None,
            "execution": redact_obj(self.execution),
            "findings": [
                hide.obj(
                    redact_obj(
                        {
                            "source": source,
                            "code": f.code,
                            "severity": str(f.severity),
                            "message": f.message,
                            "evidence": f.evidence,
                            "runbook": catalogue.default().cause(f.code).ref.to_json(),
                        }
                    )
                )
                for source, f in self.findings
            ],
            "diagnosis": diagnosis,
            # built from variables and a redacted payload: no secret to mask, variables kept
            "curl": self.curl,
        }


def without_values(report: PayloadReport, request: ParsedRequest) -> PayloadReport:
    """The report as shown without `--show-values`: body values as their shape, everywhere."""
    kind = report.request.get("kind")
    return replace(
        report,
        curl=safe_curl(request, kind, request.dialect, values=False),
        hidden=hidden_values(request.payload),
    )


def safe_curl(
    request: ParsedRequest, kind: str | None, dialect: str | None, *, values: bool = True
) -> str | None:
    """The request as a cURL to paste into a ticket: secrets as variables, org and sandbox kept;
    with `values=False`, the body's values as their shape."""
    if request.payload is None or not kind:
        return None
    url = redact_text(request.url or f"https://platform.adobe.io/ajo/im/executions/{kind}")
    kept = [
        (name, value)
        for name in ("x-gw-ims-org-id", "x-sandbox-name")
        if (value := request.header(name)) is not None
        and rules.header_state(name, value) == "present"
    ]
    payload = redact_obj(request.payload) if values else shaped_payload(request.payload)
    return build.to_curl(url, payload, dialect or "posix", kept)
