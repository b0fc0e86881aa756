"""The ecosystem's secret framings: none survives `redact_text`, nor any output of `diagnose explain`.

Each case puts a secret, in one framing, inside a log line that `explain` reports
(a Cosmos DB 403 with the revoked-CMK sub-status), within the excerpt it shows;
`context` is text next to the secret that is not secret and must be shown (so the
line really was printed around the secret, not cut before it).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import NamedTuple

import pytest

from diagnose.redact import MASK, redact_text, secret_variables
from tests.harness import run_cli
from tests.triage.samples import REVOKED_EN

SECRET = "Qx8s3cr3tV4lue0abc123XYZ"
SIGNATURE = base64.b64encode(b"\x8f\x01storage-shared-key-signature!").decode()
OWN_SECRET = "own-Secret-From-Env-7731"
CLAIMS = {"aud": "https://vault.azure.net", "iss": "https://sts.windows.net/t/", "exp": 1764115200}
PAYLOAD = base64.urlsafe_b64encode(json.dumps(CLAIMS).encode()).decode().rstrip("=")
JWT_SIGNATURE = base64.urlsafe_b64encode(bytes(range(40, 104))).decode().rstrip("=")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Case(NamedTuple):
    framing: str  # the text holding the secret
    secret: str  # what must not be shown
    context: str  # what must be shown next to it


CASES = {
    "storage-shared-key": Case(
        f"Authorization: SharedKey myaccount:{SIGNATURE}", SIGNATURE, "Authorization"
    ),
    "shared-key-in-prose": Case(
        f"signed with SharedKey myaccount:{SIGNATURE} at 01:02", SIGNATURE, "signed with SharedKey"
    ),
    "apim-subscription-key": Case(
        f"Ocp-Apim-Subscription-Key: {SECRET}", SECRET, "Ocp-Apim-Subscription-Key"
    ),
    "html-escaped-form": Case(
        f"body=grant_type&#61;client_credentials&amp;client_secret&#61;{SECRET}&amp;scope&#61;x",
        SECRET,
        "grant_type&#61;client_credentials",
    ),
    "html-escaped-json": Case(
        f"&quot;client_secret&quot;:&quot;{SECRET}&quot;,&quot;grant_type&quot;",
        SECRET,
        "&quot;grant_type&quot;",
    ),
    "u-escaped-json": Case(
        f"\\u0022client_secret\\u0022:\\u0022{SECRET}\\u0022,\\u0022scope\\u0022",
        SECRET,
        "\\u0022scope\\u0022",
    ),
    "u-escaped-form": Case(
        f"client_secret\\u003d{SECRET}\\u0026scope\\u003dx", SECRET, "scope\\u003dx"
    ),
    "base64-key-value": Case(
        f"form={b64('client_id=app&client_secret=' + SECRET)} sent",
        b64("client_id=app&client_secret=" + SECRET),
        "form=",
    ),
    "base64-password": Case(
        f"blob {b64('user=bob;password=' + SECRET)} sent",
        b64("user=bob;password=" + SECRET),
        "blob",
    ),
    "jwt-without-header": Case(f"token {PAYLOAD}.{JWT_SIGNATURE} rejected", PAYLOAD, "rejected"),
    "jwt-without-header-leading-dot": Case(
        f"tail=.{PAYLOAD}.{JWT_SIGNATURE} rejected", JWT_SIGNATURE, "rejected"
    ),
    "own-secret-verbatim": Case(f"caller used {OWN_SECRET} here", OWN_SECRET, "caller used"),
}
ENV = {"AZURE_CLIENT_SECRET": OWN_SECRET}


def log_line(framing: str) -> str:
    return (
        "2026-11-26T01:02:04.100Z ERROR Microsoft.Azure.Cosmos.CosmosException : Response status "
        f"code does not indicate success: Forbidden (403); Substatus: 4000; {framing} ; "
        f"ActivityId: 1f2e; Reason: ({REVOKED_EN});\n"
    )


@pytest.mark.parametrize("name", CASES)
def test_redact_text_masks_the_framing(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in ENV.items():
        monkeypatch.setenv(variable, value)
    case = CASES[name]
    assert case.secret in case.framing
    out = redact_text(case.framing)
    assert case.secret not in out and SECRET not in out
    assert MASK in out and case.context in out


@pytest.mark.parametrize("output", ["text", "json", "markdown"])
@pytest.mark.parametrize("name", CASES)
def test_explain_never_echoes_it(name: str, output: str, tmp_path: Path) -> None:
    case = CASES[name]
    path = tmp_path / "app.log"
    path.write_text(log_line(case.framing), encoding="utf-8")
    result = run_cli("explain", str(path), "--output", output, env=ENV)
    assert result.exit_code == 1, result
    assert case.secret not in result.output and SECRET not in result.output
    if output == "json":
        shown = json.dumps(result.json())  # the excerpt, JSON-escaped once more
        assert json.dumps(case.context)[1:-1] in shown, shown
    else:
        assert case.context in result.stdout, result


def test_ordinary_prose_and_identifiers_survive() -> None:
    for text in (
        "the tool's own Azure credential could not get a token: DefaultAzureCredential failed",
        "host mycosmosaccount-westeurope.documents.azure.com answered 403",
        "Microsoft.Azure.Cosmos.CosmosException at Handler.process",
        f"request {b64('just some ordinary printable text here')} done",
        "ActivityId: 5f1d2c3b-4a59-4e8f-a7b6-c5d4e3f2a1b0",
    ):
        assert redact_text(text) == text


def test_own_secret_values_are_the_secret_variables_of_eight_characters_or_more() -> None:
    env = {
        "AZURE_CLIENT_SECRET": "long-enough-1",
        "DIAGNOSE_ADOBE_CLIENT_SECRET": "adobe-secret-2",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD": "pfx-password",
        "PGPASSWORD": "postgres-pass",
        "DIAGNOSE_EXTRA_TOKEN": "short",  # under 8 characters: not masked
        "AZURE_CLIENT_ID": "6b0e4c1a-93d2-4f57-8b1e-2f0f0c9d7a11",  # an identifier, not a secret
        "HOME": "/home/someone-long",
    }
    assert sorted(secret_variables(env)) == [
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "AZURE_CLIENT_SECRET",
        "DIAGNOSE_ADOBE_CLIENT_SECRET",
        "PGPASSWORD",
    ]


def test_a_secret_inside_another_is_masked_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "abcdefgh")
    monkeypatch.setenv("DIAGNOSE_ADOBE_CLIENT_SECRET", "xxabcdefghyy")
    assert redact_text("a xxabcdefghyy b abcdefgh c") == "a *** b *** c"
