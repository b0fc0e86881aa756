"""The corpus: cURL requests as people paste them, each read through the real CLI to the right result."""

from __future__ import annotations

import json
from typing import Any

import pytest

from diagnose.payload.curl import parse_input
from tests.harness import Cli
from tests.payload.conftest import CORPUS, assert_no_secret, codes, report

UNITARY_BODY = json.loads((CORPUS / "unitary-body.json").read_text())
HT_BODY = json.loads((CORPUS / "highthroughput-body.json").read_text())
ALL_PRESENT = {
    "Authorization": "present",
    "x-api-key": "present",
    "x-gw-ims-org-id": "present",
    "x-sandbox-name": "present",
    "Content-Type": "present",
}
AS_VARIABLES = {**ALL_PRESENT, "Authorization": "variable", "x-api-key": "variable"}

# file -> what the parser must make of it
EXPECTED: dict[str, dict[str, Any]] = {
    "01-posix-single-quotes.sh": dict(dialect="posix", host="production", kind="unitary"),
    "02-posix-double-quotes-stage.sh": dict(dialect="posix", host="stage", kind="unitary"),
    "03-posix-highthroughput-file.sh": dict(
        dialect="posix",
        host="production",
        kind="highthroughput",
        body=HT_BODY,
        headers=AS_VARIABLES,
        body_from="--data-binary at line 8, column 3 (file highthroughput-body.json)",
    ),
    "04-posix-audience-json.sh": dict(
        dialect="posix",
        host="production",
        kind="audience",
        body={
            "campaignId": UNITARY_BODY["campaignId"],
            "audience": {"id": "aud-1"},
            "context": {"offerCode": "THANKSGIVING"},
        },
    ),
    "05-posix-one-line-clustered.sh": dict(dialect="posix", host="production", kind="unitary"),
    "06-posix-multiline-body.sh": dict(dialect="posix", host="production", kind="unitary"),
    "07-cmd-caret.cmd": dict(dialect="cmd", host="production", kind="unitary"),
    "08-cmd-caret-file.cmd": dict(
        dialect="cmd", host="production", kind="unitary", headers=AS_VARIABLES
    ),
    "09-powershell-backtick.ps1": dict(
        dialect="powershell",
        host="production",
        kind="unitary",
        body={
            "requestId": "corpus-ps",
            "campaignId": UNITARY_BODY["campaignId"],
            "recipients": [
                {
                    "type": "aep",
                    "namespace": "email",
                    "userId": "o.brien@example.com",
                    "context": {"lastName": "O'Brien"},
                }
            ],
        },
        variables=["context.lastName"],
    ),
    "10-powershell-double-quotes.ps1": dict(
        dialect="powershell", host="production", kind="unitary", headers=AS_VARIABLES
    ),
    "11-legacy-host.sh": dict(
        dialect="posix", host="legacy", kind="unitary", codes=["payload.host-legacy"], exit=0
    ),
    "12-regional-production.sh": dict(dialect="posix", host="production", kind="unitary"),
    "13-september-highthroughput-path.sh": dict(
        dialect="posix",
        host="production",
        kind="highthroughput",
        body={
            **UNITARY_BODY,
            "recipients": [{**UNITARY_BODY["recipients"][0], "type": "external"}],
        },
    ),
    "14-page-placeholders.sh": dict(
        dialect="posix",
        host="production",
        kind="unitary",
        exit=1,
        headers={name: "placeholder" for name in list(ALL_PRESENT)[:4]}
        | {"Content-Type": "present"},
        codes=["payload.header-placeholder"] * 4,
    ),
    "15-prompt-and-pipe.sh": dict(dialect="posix", host="production", kind="unitary", notes=1),
    "16-crlf-line-endings.sh": dict(dialect="posix", host="production", kind="unitary"),
    "17-missing-continuations.sh": dict(
        dialect="posix", host="production", kind="unitary", notes=1
    ),
    "18-bare-payload.json": dict(dialect=None, host=None, kind=None, headers={}),
    "19-secret-in-query-and-user.sh": dict(
        dialect="posix",
        host="production",
        kind="unitary",
        exit=1,
        notes=1,
        headers={**ALL_PRESENT, "Authorization": "missing"},
        codes=["payload.header-missing"],
    ),
    "21-powershell-51-escapes.ps1": dict(
        dialect="powershell", host="production", kind="unitary", notes=1
    ),
    # Chrome's "Copy as cURL (cmd)": every quote written ^", carets before the rest
    "22-cmd-chrome-copy-as-curl.cmd": dict(dialect="cmd", host="production", kind="unitary"),
    "23-cmd-chrome-one-line.cmd": dict(dialect="cmd", host="production", kind="unitary"),
    # bash's ANSI-C quotes: Chrome's "Copy as cURL (bash)" of a body with ' and newlines...
    "24-posix-ansi-c-chrome.sh": dict(
        dialect="posix",
        host="production",
        kind="unitary",
        body={
            "requestId": "corpus-ansi",
            "campaignId": UNITARY_BODY["campaignId"],
            "recipients": [
                {
                    "type": "aep",
                    "namespace": "email",
                    "userId": "o.brien@example.com",
                    "context": {"lastName": "O'Brien"},
                }
            ],
        },
        variables=["context.lastName"],
    ),
    # ...and \xHH, \t and \uHHHH escapes on one line
    "25-posix-ansi-c-escapes.sh": dict(dialect="posix", host="production", kind="unitary"),
    "20-get-no-body.sh": dict(
        dialect="posix",
        host="production",
        kind="unitary",
        exit=1,
        body=None,
        variables=[],
        headers={**ALL_PRESENT, "Content-Type": "missing"},
        codes=["payload.method", "payload.content-type", "payload.body-missing"],
    ),
}


def test_the_corpus_is_large_and_every_file_is_expected() -> None:
    files = {p.name for p in CORPUS.glob("[0-9]*")}
    assert files == set(EXPECTED)
    assert len(files) >= 15


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_reads_to_the_right_result(name: str, cli: Cli) -> None:
    want = EXPECTED[name]
    result = cli("payload", "check", str(CORPUS / name), "--offline", "--output", "json")
    assert result.exit_code == want.get("exit", 0), result.output
    doc = report(result)
    request = doc["request"]
    assert request["dialect"] == want["dialect"]
    assert request["host_class"] == want["host"]
    assert request["kind"] == want["kind"]
    headers = {h["name"]: h["state"] for h in request["headers"]}
    assert headers == want.get("headers", ALL_PRESENT)
    assert codes(doc) == want.get("codes", [])
    assert len(request["notes"]) == want.get("notes", 0)
    assert request["variables"] == want.get("variables", ["context.offerCode"])
    if "body_from" in want:
        assert request["body_from"] == want["body_from"]
    # the body itself, through the same parser the CLI used
    parsed = parse_input((CORPUS / name).read_text(encoding="utf-8"), CORPUS)
    assert parsed.body == want.get("body", UNITARY_BODY)
    if parsed.format == "curl":
        assert parsed.method == ("GET" if name.startswith("20-") else "POST")
    assert_no_secret(result.stdout, result.stderr)


BROKEN = {
    "broken-unclosed-quote.sh": (4, 256, "single quote opened here is never closed"),
    "broken-cmd-unclosed.cmd": (3, 6, "double quote opened here is never closed"),
    "broken-no-url.sh": (1, 1, "no URL"),
    "broken-invalid-json.sh": (4, 3, "the body of -d is not valid JSON: Expecting ',' delimiter"),
    "broken-missing-body-file.sh": (
        3,
        3,
        "'no-such-body.json' named by --data-binary does not exist",
    ),
    "broken-not-curl.txt": (1, 1, "no cURL command here"),
    "broken-bare.json": (4, 1, "not valid JSON: Expecting property name"),
    "broken-form.sh": (1, 111, "-F sends multipart form data"),
    "broken-option-without-value.sh": (1, 111, "-H needs a value"),
    "broken-dangling-escape.sh": (1, 133, "ends with the escape character"),
    "broken-invoke-webrequest.ps1": (
        1,
        6,
        "-Method is a parameter of PowerShell's Invoke-WebRequest",
    ),
}


def test_every_broken_file_is_expected() -> None:
    assert {p.name for p in CORPUS.glob("broken-*")} == set(BROKEN)


@pytest.mark.parametrize("name", sorted(BROKEN))
@pytest.mark.parametrize("output", ["text", "json"])
def test_broken_input_names_the_problem_and_where_and_exits_2(
    name: str, output: str, cli: Cli
) -> None:
    line, column, problem = BROKEN[name]
    path = CORPUS / name
    result = cli("payload", "check", str(path), "--offline", "--output", output)
    assert result.exit_code == 2
    assert result.stdout == ""  # nothing half-printed on stdout
    assert f"{path}:{line}:{column}: " in result.stderr
    assert problem in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_secret(result.stderr)


def test_invalid_json_body_also_says_where_in_the_body(cli: Cli) -> None:
    result = cli("payload", "check", str(CORPUS / "broken-invalid-json.sh"), "--offline")
    assert "(line 1, column 73 of the body)" in result.stderr


def test_standard_input_is_read_with_dash(cli: Cli) -> None:
    text = (CORPUS / "01-posix-single-quotes.sh").read_text()
    result = cli("payload", "check", "-", "--offline", "--output", "json", stdin=text)
    assert result.exit_code == 0, result.output
    assert report(result)["source"] == "<stdin>"
    assert report(result)["request"]["kind"] == "unitary"


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"\xff\xfe\x00curl", "not UTF-8")],
)
def test_unreadable_input_exits_2(content: bytes, message: str, cli: Cli, tmp_path) -> None:
    path = tmp_path / "in.sh"
    path.write_bytes(content)
    result = cli("payload", "check", str(path), "--offline")
    assert result.exit_code == 2
    assert message in result.stderr


def test_missing_file_exits_2(cli: Cli) -> None:
    result = cli("payload", "check", "no-such-file.sh", "--offline")
    assert result.exit_code == 2
    assert "no-such-file.sh: no such file" in result.stderr


def test_several_data_options_are_joined_as_curl_does(cli: Cli, tmp_path) -> None:
    path = tmp_path / "two.sh"
    path.write_text("curl https://platform.adobe.io/ajo/im/executions/unitary -d '{}' -d '{}'\n")
    result = cli("payload", "check", str(path), "--offline")
    assert result.exit_code == 2
    assert "1:58: the body (2 data options, joined with & as curl does) is not valid JSON" in (
        result.stderr
    )


def test_a_url_without_scheme_is_read_as_curl_would(tmp_path) -> None:
    parsed = parse_input("curl platform.adobe.io/ajo/im/executions/audience --json '{}'")
    assert parsed.url == "http://platform.adobe.io/ajo/im/executions/audience"
    assert (parsed.kind, parsed.host_class) == ("audience", "production")
    assert parsed.notes == [
        "the URL has no scheme: curl uses http://platform.adobe.io/ajo/im/executions/audience"
    ]
