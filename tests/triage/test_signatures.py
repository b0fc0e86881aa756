"""Every catalogue signature, recognised by the real CLI in several framings of realistic text."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from diagnose.catalogue import load
from diagnose.triage.correlate import SERVER_ERROR, UNEXPLAINED
from diagnose.triage.signatures import compile_catalogue

from .helpers import explain_json
from .samples import SAMPLES

NOISE = (
    "2026-11-26T01:02:01.000Z INFO [ajo-runtime] request completed status=200 latency_ms=41\n"
    "2026-11-26T01:02:02.000Z DEBUG [ajo-runtime] cache hit key=profile:42\n"
)


def raw_line(text: str) -> str:
    """A plain log line with a timestamp, between ordinary lines."""
    return NOISE + f"2026-11-26T01:02:03.456Z ERROR [ajo-runtime] {text}\n" + NOISE


def http_500_body(text: str) -> str:
    """A 500 response from the execution API pasted with its headers; the evidence JSON-escaped in its body."""
    body = json.dumps(
        {
            "type": "https://ns.adobe.com/aep/errors/MSG-000500-500",
            "title": "Internal Server Error",
            "status": 500,
            "detail": text,
        }
    )
    return (
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
        f"x-request-id: req-20261126-0001\r\n\r\n{body}\r\n"
    )


def jsonl_escaped_twice(text: str) -> str:
    """A JSON-lines log entry holding the 500 body as a string (the evidence escaped twice)."""
    body = json.dumps({"type": "https://ns.adobe.com/aep/errors/MSG-000500-500", "detail": text})
    entry = {"timestamp": "2026-11-26T01:02:03.456Z", "level": "ERROR", "status": 500, "body": body}
    return NOISE + json.dumps(entry) + "\n" + NOISE


FRAMINGS: dict[str, Callable[[str], str]] = {
    "raw-line": raw_line,
    "500-body": http_500_body,
    "jsonl-escaped-twice": jsonl_escaped_twice,
}


@pytest.mark.parametrize("framing", FRAMINGS)
def test_every_signature_is_recognised_in_this_framing(framing: str, tmp_path: Path) -> None:
    frame = FRAMINGS[framing]
    expected: dict[str, str] = {}
    for code, texts in SAMPLES.items():
        for n, text in enumerate(texts):
            path = tmp_path / f"{code}-{n}.log"
            path.write_text(frame(text), encoding="utf-8")
            expected[str(path)] = code
    status, doc, stderr = explain_json(*expected)
    assert status == 1, stderr
    covered: set[tuple[str, int]] = set()
    for source, code in expected.items():
        found = {m["code"] for m in doc["matches"] if m["source"] == source}
        if code == SERVER_ERROR:
            found |= {SERVER_ERROR} if UNEXPLAINED in found else set()
        assert code in found, f"{framing}: {code} not recognised in {source}: {found}"
    for m in doc["matches"]:
        code = SERVER_ERROR if m["code"] == UNEXPLAINED else m["code"]
        if expected.get(m["source"]) == code:
            covered |= {(code, index) for index in m["signatures"]}
    every = {(s.code, s.index) for s in compile_catalogue(load())}
    missing = sorted(every - covered)
    assert not missing, f"signatures with no sample recognised as {framing}: {missing}"


@pytest.mark.parametrize("message_key", ["en", "fr-typographic", "fr-plain", "fr-unaccented"])
def test_revoked_message_wrapped_by_a_log_viewer(message_key: str, tmp_path: Path) -> None:
    from .samples import REVOKED_EN, REVOKED_FR

    message = {
        "en": REVOKED_EN,
        "fr-typographic": REVOKED_FR,
        "fr-plain": REVOKED_FR.replace("’", "'"),
        "fr-unaccented": REVOKED_FR.replace("’", "'")
        .replace("à", "a")
        .replace("é", "e")
        .replace("è", "e"),
    }[message_key]
    line = f"2026-11-26T01:02:03.456Z ERROR cosmos answered 403 Forbidden: {message}"
    wrapped = "\n".join(line[i : i + 67] for i in range(0, len(line), 67))  # mid-word wraps
    path = tmp_path / "wrapped.log"
    path.write_text(NOISE + wrapped + "\n" + NOISE, encoding="utf-8")
    status, doc, _ = explain_json(str(path))
    assert "cosmos.revoked.4000" in {m["code"] for m in doc["matches"]}
    assert status == 1


def test_pretty_printed_json_document(tmp_path: Path) -> None:
    document = {
        "statusCode": 403,
        "headers": {"x-ms-substatus": "4002", "x-ms-activity-id": "5f1d2c3b"},
        "body": {
            "Errors": ["Request is blocked due to Customer Managed Key not being accessible."]
        },
    }
    path = tmp_path / "response.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    _, doc, _ = explain_json(str(path))
    # the specific sub-status wins over the generic revoked body in the same record
    assert {m["code"] for m in doc["matches"]} == {"cosmos.revoked.4002"}


def test_the_4018_status_is_not_read_as_a_disabled_key(tmp_path: Path) -> None:
    """Cosmos DB's 4018 text says "disabled or expired": it is 4018, never key.disabled (which the
    same words without "or expired", another service's, are)."""
    status = tmp_path / "status.log"
    status.write_text(
        "customerManagedKeyStatus: Access to your account is currently revoked because the Azure "
        "Key Vault key is disabled or expired (4018)\n",
        encoding="utf-8",
    )
    disabled = tmp_path / "mysql.log"
    disabled.write_text(
        "The operation couldn't be completed on server because the Azure Key Vault key is "
        "disabled.\n",
        encoding="utf-8",
    )
    _, doc, _ = explain_json(str(status), str(disabled))
    found = {(m["source"], m["code"]) for m in doc["matches"]}
    assert found == {(str(status), "cosmos.revoked.4018"), (str(disabled), "key.disabled")}


@pytest.mark.parametrize(
    "sentence",
    [
        "Access to your account is currently revoked because the Azure Key Vault key is disabled, or expired (4018)",
        "the Azure Key Vault key is disabled or has expired",
        "the Azure Key Vault key is disabled or the identity lacks access to it",
    ],
)
def test_disabled_said_with_another_possibility_is_not_a_disabled_key(
    sentence: str, tmp_path: Path
) -> None:
    """key.disabled from another service's words only where the sentence ends at "disabled"."""
    path = tmp_path / "log.txt"
    path.write_text(sentence + "\n", encoding="utf-8")
    _, doc, _ = explain_json(str(path))
    assert "key.disabled" not in {m["code"] for m in doc["matches"]}, doc["matches"]


def test_missing_key_permissions_in_words_that_name_no_model_give_both_fixes(
    tmp_path: Path,
) -> None:
    """'get, wrap and unwrap permissions' does not say whether the vault uses roles or access
    policies: the cause says how to tell, and prints both fixes."""
    path = tmp_path / "mysql.log"
    path.write_text(
        "AzureKeyVaultMissingPermissionsMessage The server doesn't have the required Get, Wrap, "
        "and Unwrap permissions to Azure Key Vault.\n",
        encoding="utf-8",
    )
    _, doc, _ = explain_json(str(path))
    (entry,) = doc["diagnosis"]
    assert entry["code"] == "keyvault.key-rights-missing"
    fixes = " ".join(entry["remediation"])
    assert "enableRbacAuthorization" in fixes
    assert "az role assignment create" in fixes and "az keyvault set-policy" in fixes
