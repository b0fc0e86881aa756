"""`diagnose explain` end to end: correlation, look-alikes, encodings, broken input, outputs, secrets."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.harness import run_cli

from .helpers import diagnosis_codes, explain_json
from .samples import REVOKED_EN, REVOKED_FR

AJO_500 = (
    '{"type":"https://ns.adobe.com/aep/errors/MSG-000500-500","title":"Internal Server Error",'
    '"status":500,"report":{"additionalContext":{"requestId":"req-1"}}}'
)
COSMOS_403 = (
    "2026-11-26T01:02:04.100Z ERROR Microsoft.Azure.Cosmos.CosmosException : Response status code "
    "does not indicate success: Forbidden (403); Substatus: 4000; ActivityId: 1f2e; Reason: "
    f"({REVOKED_EN});"
)
TOKEN = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL3BsYXRmb3JtIn0.c2lnbmF0dXJl"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- correlation ---------------------------------------------------------------------------------
def test_500_with_cosmos_403_is_the_documented_incident_root_cause_first(tmp_path: Path) -> None:
    body = write(tmp_path, "response.txt", f"HTTP/1.1 500 Internal Server Error\n\n{AJO_500}\n")
    log = write(tmp_path, "system.log", COSMOS_403 + "\n")
    status, doc, _ = explain_json(body, log)
    assert status == 1
    assert doc["schema"] == "diagnose/explain@1"
    assert diagnosis_codes(doc) == ["cosmos.revoked.4000", "campaign.server-error"]
    first = doc["diagnosis"][0]
    assert first["runbook"] == {"id": "cosmosdb-auth-errors", "step": 1}
    assert first["remediation"]
    revoked = next(m for m in doc["matches"] if m["code"] == "cosmos.revoked.4000")
    assert revoked["source"] == log and revoked["line"] == 1


def test_500_alone_is_unexplained_and_never_forced_into_the_incident(tmp_path: Path) -> None:
    body = write(tmp_path, "response.txt", f"HTTP/1.1 500 Internal Server Error\n\n{AJO_500}\n")
    status, doc, _ = explain_json(body)
    assert diagnosis_codes(doc) == ["campaign.server-error-unexplained"]
    assert doc["diagnosis"][0]["severity"] == "warn"
    assert any("x-request-id" in step for step in doc["diagnosis"][0]["remediation"])
    assert status == 0  # warn is below the default --fail-on fail
    status, _, _ = explain_json(body, extra=("--fail-on", "warn"))
    assert status == 1


def test_causal_order_principal_before_revoked_before_server_error(tmp_path: Path) -> None:
    text = "\n".join(
        [
            f"2026-11-26T01:02:05Z ERROR ajo POST /ajo/im/executions/unitary -> {AJO_500}",
            COSMOS_403,
            '2026-11-26T01:02:03Z ERROR msal {"error":"unauthorized_client","error_description":'
            '"AADSTS7000112: Application \'9f1c\'(id-cosmos-cmk) is disabled.","error_codes":[7000112]}',
        ]
    )
    _, doc, _ = explain_json(write(tmp_path, "all.log", text + "\n"))
    assert diagnosis_codes(doc) == [
        "principal.disabled",
        "cosmos.revoked.4000",
        "campaign.server-error",
    ]


# -- look-alikes are not the incident ------------------------------------------------------------
WIKI = """# Troubleshooting 403 errors

A 403 Forbidden means the caller is authenticated but not allowed. Cosmos DB adds a
sub-status code: for example 5301 means a missing data-plane role, and the codes
between 4000 and 4017 mean that the customer-managed key cannot be reached.

When the campaign API answers HTTP 500, look for the 403 behind it.
"""


@pytest.mark.parametrize(
    "text",
    [
        WIKI,
        "2026-11-26T01:02:03Z WARN servicebus-relay: operation throttled, substatus 4000, retry in 2s\n",
        "2026-11-26T01:02:03Z ERROR storage: status 403 (AuthorizationFailure) on container logs\n"
        "2026-11-26T01:02:04Z WARN relay: substatus 4000 while renewing a lease\n",
        "2026-11-26T01:02:03Z INFO GET /health 500ms ok; retried 4000 times in total\n",
        "POST https://platform.adobe.io/ajo/im/executions/unitary failed: Read timed out. (read timeout=30)\n",
        # Key Vault refusing *secret* operations is not the CMK chain (keys only)
        '2026-11-26T01:02:03Z ERROR GET https://kv-app.vault.azure.net/secrets/db-password 403 {"error":{"code":"Forbidden",'
        '"message":"Caller is not authorized to perform action on resource.\\r\\nAction: \'Microsoft.KeyVault/vaults/secrets/getSecret/action\'\\r\\n'
        "Resource: '/subscriptions/0000/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv-app/secrets/db-password'\","
        '"innererror":{"code":"ForbiddenByRbac"}}}\n',
        '2026-11-26T01:02:03Z ERROR {"error":{"code":"Forbidden","message":"The user, group or application \'appid=0000;oid=1111\' '
        'does not have secrets get permission on key vault \'kv-app;location=westeurope\'.","innererror":{"code":"AccessDenied"}}}\n',
        '2026-11-26T01:02:03Z ERROR {"error":{"code":"Forbidden","message":"Operation get is not allowed on a disabled secret.",'
        '"innererror":{"code":"SecretDisabled"}}}\n',
        "2026-11-26T01:02:03Z INFO customerManagedKeyStatus: Access to the configured customer managed key confirmed.\n",
    ],
    ids=[
        "wiki-page",
        "substatus-elsewhere",
        "403-and-4000-in-different-entries",
        "numbers",
        "short-timeout",
        "rbac-on-a-secret",
        "access-policy-on-a-secret",
        "disabled-secret",
        "healthy-cmk-status",
    ],
)
def test_lines_that_merely_mention_the_words_are_not_reported(text: str, tmp_path: Path) -> None:
    result = run_cli("explain", write(tmp_path, "notes.md", text))
    assert result.exit_code == 0, result.stdout
    assert "Nothing recognised" in result.stdout


def test_timeout_at_sixty_seconds_is_call_timeout(tmp_path: Path) -> None:
    text = "POST https://platform.adobe.io/ajo/im/executions/unitary failed: Read timed out. (read timeout=60)\n"
    status, doc, _ = explain_json(write(tmp_path, "client.log", text))
    assert diagnosis_codes(doc) == ["call.timeout"]
    assert status == 1


# -- encodings and framings ----------------------------------------------------------------------
FRENCH_LINE = f"2026-11-26T01:02:03Z ERREUR Cosmos DB a répondu 403 : {REVOKED_FR}\r\n"


@pytest.mark.parametrize(
    "encoding, text",
    [
        ("utf-8", FRENCH_LINE),
        ("utf-8-sig", FRENCH_LINE),
        ("utf-16", FRENCH_LINE),  # with BOM, as Windows PowerShell redirects
        ("utf-16-le", FRENCH_LINE),  # no BOM: recognised by its NUL bytes
        ("cp1252", FRENCH_LINE),
        ("latin-1", FRENCH_LINE.replace("’", "'")),
    ],
)
def test_encodings(encoding: str, text: str, tmp_path: Path) -> None:
    path = tmp_path / f"export-{encoding}.log"
    path.write_bytes(text.encode(encoding))
    status, doc, _ = explain_json(str(path))
    assert "cosmos.revoked.4000" in {m["code"] for m in doc["matches"]}
    assert status == 1


def test_gzip_file_and_stdin(tmp_path: Path) -> None:
    path = tmp_path / "export.log.gz"
    path.write_bytes(gzip.compress((COSMOS_403 + "\n").encode()))
    _, doc, _ = explain_json(str(path))
    assert diagnosis_codes(doc) == ["cosmos.revoked.4000"]
    _, doc, _ = explain_json("-", stdin=COSMOS_403 + "\n")
    assert diagnosis_codes(doc) == ["cosmos.revoked.4000"]
    assert doc["matches"][0]["source"] == "<stdin>"
    _, doc, _ = explain_json(stdin=gzip.compress((COSMOS_403 + "\n").encode()))
    assert diagnosis_codes(doc) == ["cosmos.revoked.4000"]


def test_http_response_pasted_with_headers(tmp_path: Path) -> None:
    text = (
        "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
        "x-ms-activity-id: 5f1d2c3b\r\nx-ms-substatus: 4015\r\n\r\n"
        '{"code":"Forbidden","message":"Request is blocked due to Customer Managed Key not being accessible."}\r\n'
    )
    _, doc, _ = explain_json(write(tmp_path, "paste.txt", text))
    assert diagnosis_codes(doc) == ["cosmos.revoked.4015"]
    assert doc["matches"][0]["line"] == 4  # the x-ms-substatus line proves it


# -- broken input: a message or a partial result, never a traceback --------------------------------
def test_binary_junk_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "core.bin"
    path.write_bytes(bytes(range(256)) * 64)
    result = run_cli("explain", str(path))
    assert result.exit_code == 2
    assert "binary data" in result.stderr and str(path) in result.stderr
    assert "could not be read" in result.stdout
    status, doc, _ = explain_json(str(path))
    assert status == 2 and doc["status"] == "error" and doc["problems"]


def test_truncated_gzip_gives_the_partial_result(tmp_path: Path) -> None:
    lines = [f"2026-11-26T01:02:{i % 60:02d}Z INFO request {i} ok\n" for i in range(20000)]
    data = gzip.compress((COSMOS_403 + "\n" + "".join(lines)).encode())
    path = tmp_path / "cut.log.gz"
    path.write_bytes(data[: len(data) // 2])
    status, doc, stderr = explain_json(str(path))
    assert "truncated or corrupt gzip" in stderr
    assert diagnosis_codes(doc) == ["cosmos.revoked.4000"]
    assert doc["problems"] and status == 1
    clean = tmp_path / "cut-clean.log.gz"
    clean.write_bytes(gzip.compress("".join(lines).encode())[:1000])
    status, doc, stderr = explain_json(str(clean))
    assert status == 2 and "truncated" in stderr and not doc["diagnosis"]


def test_invalid_utf8_and_a_50_mb_single_line(tmp_path: Path) -> None:
    path = tmp_path / "one-line.json"
    with path.open("wb") as f:
        f.write(b'{"items":["\xff\xfe\xc3(' + b"x" * (50 << 20) + b'",')
        f.write(json.dumps({"status": 403, "substatus": 4002}).encode() + b"]}")
    result = run_cli("explain", "--output", "json", str(path), timeout=120)
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    doc = result.json()
    assert diagnosis_codes(doc) == ["cosmos.revoked.4002"]
    assert len(doc["matches"][0]["excerpt"]) < 400


def test_missing_file_directory_and_empty_input(tmp_path: Path) -> None:
    result = run_cli("explain", str(tmp_path / "nope.log"))
    assert result.exit_code == 2 and "nope.log" in result.stderr
    result = run_cli("explain", str(tmp_path))
    assert result.exit_code == 2
    empty = write(tmp_path, "empty.log", "")
    result = run_cli("explain", empty)
    assert result.exit_code == 0 and "Nothing recognised" in result.stdout


# -- outputs and secrets ---------------------------------------------------------------------------
def test_text_and_markdown_outputs(tmp_path: Path) -> None:
    log = write(tmp_path, "system.log", "noise\n" + COSMOS_403 + "\n")
    text = run_cli("explain", log)
    assert text.exit_code == 1
    assert "cosmos.revoked.4000" in text.stdout
    assert f"{log}:2" in text.stdout
    assert "Runbook cosmosdb-auth-errors, step 1: Verify the service principal" in text.stdout
    md = run_cli("explain", "--output", "markdown", log)
    assert md.stdout.startswith("# diagnose explain")
    assert "## Diagnosis (root cause first)" in md.stdout
    assert "1. **Cosmos DB cannot get a token" in md.stdout
    assert "(`cosmos.revoked.4000`): runbook `cosmosdb-auth-errors`, step 1" in md.stdout
    assert f"   - `{log}:2`: `" in md.stdout
    assert md.exit_code == 1


def test_secrets_never_reach_the_output(tmp_path: Path) -> None:
    secret = "Qx8~s3cr3t.V4lue_abc"
    text = (
        f"2026-11-26T01:02:03Z ERROR POST /ajo/im/executions/unitary Authorization: Bearer {TOKEN} "
        f"x-api-key: {secret} answered {AJO_500}\n"
        f"2026-11-26T01:02:04Z ERROR cosmos authorization: type=aad&ver=1.0&sig={TOKEN} "
        f"status=403 x-ms-substatus=4000 client_secret={secret}\n"
        f"2026-11-26T01:02:05Z ERROR https://acct.blob.core.windows.net/x?sv=2022&sig={secret} "
        f"AccountKey={secret}; {REVOKED_EN}\n"
    )
    log = write(tmp_path, "leaky.log", text)
    for output in ("text", "json", "markdown"):
        result = run_cli("explain", "--output", output, log)
        assert result.exit_code == 1
        assert secret not in result.stdout and TOKEN not in result.stdout
        assert "***" in result.stdout


def test_stack_trace_pasted_from_a_chat(tmp_path: Path) -> None:
    text = """2026-11-26T01:02:03.456Z ERROR worker failed to store the message
Traceback (most recent call last):
  File "/app/worker.py", line 42, in send
    container.create_item(body)
  File "/usr/lib/python3.11/site-packages/azure/cosmos/container.py", line 511, in create_item
    result = self.client_connection.CreateItem(
azure.cosmos.exceptions.CosmosHttpResponseError: (Forbidden) Request is blocked due to Customer Managed Key not being accessible.
Code: Forbidden
Message: Request is blocked due to Customer Managed Key not being accessible.
ActivityId: 5f1d2c3b-4a59-4e8f-a7b6-c5d4e3f2a1b0, Microsoft.Azure.Documents.Common/2.14.0
Status code: 403
Sub-status: 4005
2026-11-26T01:02:04.000Z INFO worker retrying in 5 s
"""
    status, doc, _ = explain_json(write(tmp_path, "chat.txt", text))
    assert diagnosis_codes(doc) == ["cosmos.revoked.4005"]
    assert doc["matches"][0]["line"] == 12  # the Sub-status line
    assert status == 1


def test_a_secret_cut_by_the_excerpt_window_is_still_masked(tmp_path: Path) -> None:
    """The excerpt is cut around the evidence; a long token just before it must not leak in part."""
    long_token = TOKEN + "A" * 300
    line = f"2026-11-26T01:02:03Z ERROR Authorization: Bearer {long_token} status=403 x-ms-substatus=4002\n"
    status, doc, _ = explain_json(write(tmp_path, "cut.log", line))
    assert status == 1
    excerpt = doc["matches"][0]["excerpt"]
    assert "AAAAAAAAAA" not in excerpt and "eyJ" not in excerpt
    assert "x-ms-substatus=4002" in excerpt
