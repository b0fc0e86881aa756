"""Properties: valid payloads round-trip through cURL text unchanged; no text makes the parser crash."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from diagnose.model import Severity
from diagnose.payload.build import to_curl
from diagnose.payload.check import check
from diagnose.payload.curl import PayloadSyntaxError, parse_input, parse_json
from diagnose.payload.service import fresh_ids
from tests.fuzz import text_with
from tests.harness import Cli

DIALECTS = st.sampled_from(["posix", "powershell", "cmd"])
# Any text a payload may hold: quotes, backslashes, shell metacharacters, other scripts, newlines.
TEXT = text_with("'\"\\`$^%&|<>!;(){}[] \n\t*?#~é€😀", max_size=30)
JSON_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
EMAIL = st.builds(
    lambda user, domain: f"{user}@{domain}.example",
    st.from_regex(r"[a-z0-9._+]{1,12}", fullmatch=True),
    st.from_regex(r"[a-z0-9-]{1,10}", fullmatch=True),
)


@st.composite
def recipients(draw: st.DrawFn, kind: str) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=20))
    emails = draw(st.lists(EMAIL, min_size=count, max_size=count, unique=True))
    out = []
    for email in emails:
        recipient: dict[str, Any] = {
            "type": "external"
            if kind == "highthroughput"
            else draw(st.sampled_from(["aep", "external"])),
            "namespace": "email",
            "userId": email,
        }
        if draw(st.booleans()):
            recipient["channelData"] = {"emailAddress": email}
        if draw(st.booleans()):
            recipient["context"] = draw(st.dictionaries(TEXT, JSON_VALUE, max_size=3))
        if kind == "unitary" and draw(st.booleans()):
            recipient["profile"] = draw(st.dictionaries(TEXT, JSON_VALUE, max_size=2))
        out.append(recipient)
    return out


@st.composite
def valid_payloads(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(["unitary", "highthroughput", "audience"]))
    payload: dict[str, Any] = {"campaignId": draw(TEXT.filter(lambda t: t.strip()))}
    if kind != "audience" or draw(st.booleans()):
        payload["requestId"] = draw(TEXT.filter(lambda t: t.strip()))
    if kind == "audience":
        if draw(st.booleans()):
            payload["context"] = draw(st.dictionaries(TEXT, JSON_VALUE, max_size=3))
    else:
        payload["recipients"] = draw(recipients(kind))
    return kind, payload


HEADERS = [("x-gw-ims-org-id", "0123456789ABCDEF01234567@AdobeOrg"), ("x-sandbox-name", "prod")]


def fails(findings: list) -> list[str]:
    return [f.code for f in findings if f.severity is Severity.FAIL]


def round_trip(kind: str, payload: dict[str, Any], dialect: str) -> None:
    url = f"https://platform.adobe.io/ajo/im/executions/{kind}"
    text = to_curl(url, payload, dialect, HEADERS)
    parsed = parse_input(text)
    assert parsed.dialect == dialect
    assert parsed.body == payload
    assert parsed.kind == kind
    assert parsed.url == url
    assert parsed.method == "POST"
    assert fails(check(parsed)) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_payloads(), DIALECTS)
def test_a_valid_payload_round_trips_through_curl_text_in_every_dialect(
    kind_payload: tuple[str, dict[str, Any]], dialect: str
) -> None:
    kind, payload = kind_payload
    assert fails(check(parse_json(json.dumps(payload)), kind=kind)) == []  # the tool accepts it
    round_trip(kind, payload, dialect)


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_payloads(), DIALECTS)
def test_the_payload_send_builds_is_valid_new_and_round_trips(
    kind_payload: tuple[str, dict[str, Any]], dialect: str
) -> None:
    kind, payload = kind_payload
    fresh, x_request_id = fresh_ids(payload)
    assert fresh["requestId"] != payload.get("requestId")
    assert x_request_id != fresh["requestId"]
    assert {k: v for k, v in fresh.items() if k != "requestId"} == {
        k: v for k, v in payload.items() if k != "requestId"
    }
    round_trip(kind, fresh, dialect)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(TEXT, JSON_VALUE, max_size=4),
    TEXT.filter(lambda t: t.strip()),
    st.sampled_from(["unitary", "highthroughput", "audience"]),
    DIALECTS,
)
def test_any_payload_the_checker_accepts_round_trips(
    extra: dict[str, Any], campaign_id: str, kind: str, dialect: str
) -> None:
    """Arbitrary objects: whenever the rules find nothing failing, the text round-trips."""
    payload = {**extra, "campaignId": campaign_id}
    parsed = parse_json(json.dumps(payload))
    if fails(check(parsed, kind=kind)) == []:
        round_trip(kind, payload, dialect)


ANY_TEXT = st.text(max_size=200) | st.builds(
    lambda a, b: f"curl {a} https://platform.adobe.io/ajo/im/executions/unitary {b}",
    st.text(alphabet=st.sampled_from("-dXHu@'\"\\`^ \n{}:[],0a"), max_size=60),
    st.text(max_size=40),
)


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT)
@example("CURL [")  # urlsplit raised ValueError on it once
@example("curl https://platform.adobe.io:99999/ajo/im/executions/unitary -d {}")
@example("curl https://x -d @\x00")
@example("curl https://x --json @/")
def test_the_parser_never_crashes(text: str) -> None:
    try:
        parsed = parse_input(text)
    except PayloadSyntaxError as exc:
        assert exc.problem
        return
    check(parsed)  # whatever was read, the rules judge it without crashing


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ANY_TEXT)
def test_the_cli_never_shows_a_traceback(cli: Cli, text: str) -> None:
    for output in ("text", "json"):
        result = cli("payload", "check", "-", "--offline", "--output", output, stdin=text)
        assert result.exit_code in (0, 1, 2), result.output
        assert "Traceback" not in result.output
        if result.exit_code == 2:
            assert result.stderr.startswith("Error: ")
        elif output == "json":
            json.loads(result.stdout)
