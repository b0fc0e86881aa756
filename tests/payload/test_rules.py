"""The payload rules: each one fires on the payload that breaks it, and only there."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from diagnose import catalogue
from diagnose.model import Severity
from diagnose.payload.build import to_curl
from diagnose.payload.campaign import campaign_kind, compare, window_problem
from diagnose.payload.check import check
from diagnose.payload.curl import parse_input, parse_json
from diagnose.payload.ledger import Ledger
from diagnose.payload.rules import header_state
from tests.harness import Cli
from tests.payload.conftest import CORPUS, codes, report

GOOD: dict[str, Any] = json.loads((CORPUS / "unitary-body.json").read_text())
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def found(payload: dict[str, Any], kind: str = "unitary", **kwargs: Any) -> list[str]:
    return [f.code for f in check(parse_json(json.dumps(payload)), kind=kind, **kwargs)]


def edited(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(GOOD)
    recipient_changes = changes.pop("recipient", {})
    payload["recipients"][0].update(recipient_changes)
    payload["recipients"][0] = {k: v for k, v in payload["recipients"][0].items() if v is not None}
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def test_the_reference_payload_is_clean() -> None:
    assert found(GOOD) == []


@pytest.mark.parametrize(
    ("payload", "kind", "expected"),
    [
        (edited(campaignId=None), "unitary", ["payload.field-missing"]),
        (edited(campaignId=42), "unitary", ["payload.field-invalid"]),
        (edited(requestId=None), "unitary", ["payload.request-id-missing"]),
        (edited(requestId=None), "audience", ["campaign.recipients-not-allowed"]),
        (edited(recipients=[]), "unitary", ["payload.recipients-count"]),
        (edited(recipients="someone"), "unitary", ["payload.field-invalid"]),
        (edited(recipient={"userId": None}), "unitary", ["payload.field-missing"]),
        (edited(recipient={"type": "crm"}), "unitary", ["campaign.recipients-not-allowed"]),
        (edited(), "highthroughput", ["campaign.recipients-not-allowed"]),
        (
            edited(recipient={"type": "external", "profile": {"a": 1}}),
            "highthroughput",
            ["campaign.recipients-not-allowed"],
        ),
        (edited(recipient={"type": "external"}), "highthroughput", []),
        (edited(recipient={"userId": "12345"}), "unitary", ["payload.channel-data-mismatch"]),
        (
            edited(recipient={"channelData": {"mobilePhoneNumber": "+15555550100"}}),
            "unitary",
            ["payload.channel-data-mismatch"],
        ),
        (
            edited(recipient={"channelData": {"emailAddress": "not-an-address"}}),
            "unitary",
            ["payload.channel-data-mismatch"],
        ),
        (
            edited(
                recipient={
                    "namespace": "phone",
                    "userId": "+15555550100",
                    "channelData": {"emailAddress": "someone@example.com"},
                }
            ),
            "unitary",
            ["payload.channel-data-mismatch"],
        ),
        (
            edited(
                recipient={
                    "namespace": "phone",
                    "userId": "+15555550100",
                    "channelData": {"mobilePhoneNumber": "+15555550100"},
                }
            ),
            "unitary",
            [],
        ),
        (edited(recipient={"namespace": "ECID", "userId": "1234"}), "unitary", []),
    ],
)
def test_payload_rules(payload: dict[str, Any], kind: str, expected: list[str]) -> None:
    assert found(payload, kind) == expected


def test_twenty_recipients_pass_twenty_one_do_not_and_duplicates_are_named() -> None:
    def many(n: int) -> list[dict[str, Any]]:
        return [
            {"type": "aep", "namespace": "email", "userId": f"p{i}@example.com"} for i in range(n)
        ]

    assert found(edited(recipients=many(20))) == []
    assert found(edited(recipients=many(21))) == ["payload.recipients-count"]
    twice = many(2) + many(1)
    findings = check(parse_json(json.dumps(edited(recipients=twice))), kind="unitary")
    assert [f.code for f in findings] == ["payload.recipients-duplicate"]
    assert findings[0].evidence == {"userIds": ["p0@example.com"]}


@pytest.mark.parametrize(
    ("name", "value", "state"),
    [
        ("Authorization", "Bearer eyJabc.def.ghi", "present"),
        ("Authorization", "Bearer {ACCESS_TOKEN}", "placeholder"),
        ("Authorization", "Bearer", "placeholder"),
        ("Authorization", "Basic dXNlcjpwYXNz", "placeholder"),
        ("Authorization", "Bearer $ACCESS_TOKEN", "variable"),
        ("x-api-key", "<your api key>", "placeholder"),
        ("x-api-key", "YOUR_API_KEY", "placeholder"),
        ("x-api-key", "%API_KEY%", "variable"),
        ("x-api-key", "$env:API_KEY", "variable"),
        ("x-sandbox-name", "", "placeholder"),
        ("x-sandbox-name", "prod", "present"),
        ("x-sandbox-name", None, "missing"),
    ],
)
def test_header_states(name: str, value: str | None, state: str) -> None:
    assert header_state(name, value) == state


def test_a_request_id_this_tool_sent_is_reported(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ids")
    assert found(GOOD, ledger=ledger) == []
    ledger.record("corpus-1", "0b5e-x-request", "unitary", GOOD["campaignId"])
    assert found(GOOD, ledger=ledger) == ["payload.request-id-reused"]
    assert "corpus-1" in (tmp_path / "ids").read_text()


def test_profile_comparisons_are_warnings() -> None:
    text = to_curl(
        "https://platform-stage.adobe.io/ajo/im/executions/unitary",
        GOOD,
        headers=[("x-gw-ims-org-id", "A@AdobeOrg"), ("x-sandbox-name", "dev")],
    )
    profile = {
        "platform_url": "https://platform.adobe.io",
        "ims_org": "B@AdobeOrg",
        "sandbox": "prod",
        "campaign_id": "another",
    }
    findings = check(parse_input(text), profile=profile)
    assert [f.code for f in findings] == [
        "payload.host-differs",
        "payload.header-differs",
        "payload.header-differs",
        "payload.campaign-id-differs",
    ]
    assert all(f.severity is Severity.WARN for f in findings)


# --- the campaign definition ----------------------------------------------------------------
def definition(**changes: Any) -> dict[str, Any]:
    base = {
        "id": GOOD["campaignId"],
        "name": "Order confirmation",
        "status": "live",
        "apiTriggerType": "transactional",
        "highThroughput": False,
        "schedule": {
            "startDate": "2026-11-01T00:00:00.000Z",
            "startDateEnabled": True,
            "endDate": "2026-12-01T00:00:00.000Z",
            "endDateEnabled": True,
        },
        "personalization": {
            "profile": ["profile.person.name.firstName"],
            "context": ["context.offerCode"],
        },
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({}, "unitary"),
        ({"highThroughput": True}, "highthroughput"),
        ({"apiTriggerType": "marketing"}, "audience"),
    ],
)
def test_campaign_kind(changes: dict[str, Any], kind: str) -> None:
    assert campaign_kind(definition(**changes)) == kind


def test_window_and_status() -> None:
    assert window_problem(definition(), NOW) is None
    assert window_problem(definition(status="draft"), NOW)[0] == "campaign.not-live"
    assert window_problem(definition(), NOW + timedelta(days=10))[0] == "campaign.outside-window"
    assert window_problem(definition(), NOW - timedelta(days=30))[0] == "campaign.outside-window"
    disabled = definition(schedule={"endDate": "2026-01-01T00:00:00Z", "endDateEnabled": False})
    assert window_problem(disabled, NOW) is None


def test_compare_reports_kind_window_and_variables() -> None:
    payload = edited(recipient={"context": {}})
    findings = compare(
        definition(highThroughput=True), "unitary", payload, NOW + timedelta(days=10)
    )
    got = {(f.code, f.severity) for f in findings}
    assert got == {
        ("campaign.outside-window", Severity.FAIL),
        ("campaign.endpoint-mismatch", Severity.FAIL),
        ("payload.personalization-missing", Severity.FAIL),  # context.offerCode
    }
    # aep recipients may get profile attributes from Experience Platform: a warning only
    findings = compare(definition(), "unitary", GOOD, NOW)
    assert [(f.code, f.severity, f.evidence["variable"]) for f in findings] == [
        ("payload.personalization-missing", Severity.WARN, "profile.person.name.firstName")
    ]
    # external recipients cannot: a failure
    external = edited(recipient={"type": "external"})
    assert compare(definition(), "unitary", external, NOW)[0].severity is Severity.FAIL
    carried = edited(recipient={"profile": {"person": {"name": {"firstName": "Ada"}}}})
    assert compare(definition(), "unitary", carried, NOW) == []


def test_every_payload_code_is_in_the_catalogue_with_a_step() -> None:
    cat = catalogue.default()
    source = "\n".join(
        p.read_text() for p in (Path(__file__).parents[2] / "diagnose" / "payload").glob("*.py")
    )
    raised = set(re.findall(r'"((?:payload|campaign|call)\.[a-z-]+)"', source))
    assert raised >= {"payload.header-missing", "campaign.server-error", "call.timeout"}
    for code in raised:
        assert cat.cause(code).step is not None, code


# --- through the CLI ------------------------------------------------------------------------
def test_cli_exit_statuses_and_fail_on(cli: Cli, tmp_path: Path) -> None:
    legacy = str(CORPUS / "11-legacy-host.sh")  # one warning
    assert cli("payload", "check", legacy, "--offline").exit_code == 0
    assert cli("payload", "check", legacy, "--offline", "--fail-on", "warn").exit_code == 1
    bare = tmp_path / "p.json"
    bare.write_text(json.dumps(edited(requestId=None)))
    result = cli(
        "payload", "check", str(bare), "--offline", "--kind", "unitary", "--output", "json"
    )
    assert result.exit_code == 1
    doc = report(result)
    assert codes(doc) == ["payload.request-id-missing"]
    assert doc["diagnosis"][0]["runbook"] == {"id": "payload", "step": 2}
    assert doc["request"]["kind"] == "unitary"


@pytest.mark.parametrize("output", ["text", "markdown"])
def test_human_outputs_name_cause_runbook_and_remediation(cli: Cli, output: str) -> None:
    result = cli(
        "payload", "check", str(CORPUS / "14-page-placeholders.sh"), "--offline", "--output", output
    )
    assert result.exit_code == 1
    assert "payload.header-placeholder" in result.stdout
    where = {"text": "Runbook payload, step 1: ", "markdown": "runbook `payload`, step 1, "}
    assert where[output] in result.stdout
    assert "{ACCESS_TOKEN}" in result.stdout  # the remediation text from the catalogue
