"""Tokens, client secrets and API keys from the cURL never reach any output, redaction or not."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import diagnose.payload.document as report_module
from diagnose.cli import cli as cli_main
from diagnose.payload.curl import parse_input
from tests.harness import Cli, CliResult
from tests.payload.conftest import API_KEY, CORPUS, TOKEN, assert_no_secret

FILES = sorted(p.name for p in CORPUS.glob("*") if p.suffix in (".sh", ".cmd", ".ps1", ".txt"))


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("output", ["text", "json", "markdown"])
def test_no_secret_in_any_output_of_any_corpus_file(name: str, output: str, cli: Cli) -> None:
    result = cli("payload", "check", str(CORPUS / name), "--offline", "--output", output)
    assert result.exit_code in (0, 1, 2)
    assert_no_secret(result.stdout, result.stderr)


@pytest.mark.parametrize("output", ["text", "json", "markdown"])
def test_header_secrets_stay_out_even_without_redaction(
    output: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Header values are never put into a report at all: switching redaction off changes nothing.

    In process (click's runner): redaction is switched off in this process, which a subprocess
    would not see.
    """
    monkeypatch.setattr(report_module, "redact_obj", lambda obj: obj)
    monkeypatch.setattr(report_module, "redact_text", lambda text: text)
    for name in ("01-posix-single-quotes.sh", "07-cmd-caret.cmd", "09-powershell-backtick.ps1"):
        args = ["payload", "check", str(CORPUS / name), "--offline", "--output", output]
        result = CliRunner().invoke(cli_main, args, catch_exceptions=False)
        assert result.exit_code == 0
        for secret in (TOKEN, API_KEY):
            assert secret not in result.stdout + result.stderr


def test_the_parsed_request_does_not_show_headers_in_its_repr() -> None:
    parsed = parse_input((CORPUS / "01-posix-single-quotes.sh").read_text())
    assert parsed.header("Authorization") == f"Bearer {TOKEN}"  # kept for the rules...
    assert TOKEN not in repr(parsed) and API_KEY not in repr(parsed)  # ...never shown


def test_the_ticket_curl_uses_variables_and_masks_query_secrets(cli: Cli) -> None:
    result = cli(
        "payload",
        "check",
        str(CORPUS / "19-secret-in-query-and-user.sh"),
        "--offline",
        "--output",
        "markdown",
    )
    assert '-H "Authorization: Bearer $ACCESS_TOKEN"' in result.stdout
    assert '-H "x-api-key: $API_KEY"' in result.stdout
    assert "access_token=***" in result.stdout
    assert_no_secret(result.stdout)


# --- body values: their shape unless --show-values ---------------------------------------------
BODY_VALUES = ("someone@example.com", "THANKSGIVING")
DUPLICATES = (
    '{"requestId":"dup-1","campaignId":"10e2583b-4d1d-4b57-bd6e-fdc79405d67d","recipients":['
    '{"type":"aep","namespace":"email","userId":"twice@example.com"},'
    '{"type":"aep","namespace":"email","userId":"twice@example.com"}]}'
)


def _check_offline(cli: Cli, output: str, *extra: str) -> CliResult:
    """`payload check --offline` of the single-quotes corpus request, which must exit 0."""
    result = cli(
        "payload", "check", str(CORPUS / "01-posix-single-quotes.sh"), "--offline", *extra,
        "--output", output,
    )  # fmt: skip
    assert result.exit_code == 0, result
    return result


@pytest.mark.parametrize("output", ["text", "json", "markdown"])
def test_body_values_are_shown_as_their_shape(output: str, cli: Cli) -> None:
    result = _check_offline(cli, output)
    for value in BODY_VALUES:
        assert value not in result.output
    assert "10e2583b-4d1d-4b57-bd6e-fdc79405d67d" in result.stdout  # campaignId: kept
    if output != "text":  # the ticket cURL: keys kept, values as their shape
        assert "<string, 19 chars>" in result.stdout and "offerCode" in result.stdout
    assert_no_secret(result.stdout, result.stderr)


@pytest.mark.parametrize("output", ["json", "markdown"])
def test_show_values_shows_them_and_still_masks_secrets(output: str, cli: Cli) -> None:
    result = _check_offline(cli, output, "--show-values")
    for value in BODY_VALUES:
        assert value in result.stdout
    assert "chars>" not in result.stdout
    assert_no_secret(result.stdout, result.stderr)


@pytest.mark.parametrize("output", ["text", "json", "markdown"])
def test_a_finding_that_quotes_a_body_value_quotes_its_shape(
    output: str, cli: Cli, tmp_path
) -> None:
    path = tmp_path / "dup.json"
    path.write_text(DUPLICATES)
    result = cli(
        "payload", "check", str(path), "--offline", "--kind", "unitary", "--output", output
    )
    assert "payload.recipients-duplicate" in result.stdout, result
    assert "twice@example.com" not in result.output
    assert "<string, 17 chars>" in result.stdout
    shown = cli(
        "payload",
        "check",
        str(path),
        "--offline",
        "--kind",
        "unitary",
        "--show-values",
        "--output",
        output,
    )
    assert "twice@example.com" in shown.stdout


def test_shape_keeps_keys_and_nesting() -> None:
    payload = {
        "requestId": "r-1",
        "campaignId": "c-1",
        "recipients": [
            {"type": "aep", "userId": "a@b.c", "context": {"n": 3, "ok": True, "none": None}}
        ],
    }
    assert report_module.shaped_payload(payload) == {
        "requestId": "r-1",
        "campaignId": "c-1",
        "recipients": [
            {
                "type": "aep",
                "userId": "<string, 5 chars>",
                "context": {"n": "<number>", "ok": "<boolean>", "none": None},
            }
        ],
    }
