"""diagnose.redact: secrets never survive, ordinary evidence does."""

from __future__ import annotations

import json

import pytest

from diagnose.redact import MASK, redact_obj, redact_text

JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL3ZhdWx0In0.c2lnbmF0dXJlLXBhcnQ"
SECRET = "Qx8~s3cr3t.V4lue_abc"


@pytest.mark.parametrize(
    "text, secret",
    [
        (f"Authorization: Bearer {JWT}", JWT),
        (f"authorization: type=aad&ver=1.0&sig={JWT}", JWT),
        (f"token is {JWT} in the middle", JWT),
        (f'{{"client_secret": "{SECRET}", "grant_type": "client_credentials"}}', SECRET),
        (f"grant_type=client_credentials&client_id=abc&client_secret={SECRET}&scope=x", SECRET),
        (f"x-api-key: {SECRET}", SECRET),
        (f'{{"x-api-key":"{SECRET}"}}', SECRET),
        (f"https://acct.blob.core.windows.net/c?sv=2022-11-02&sig={SECRET}&se=2026", SECRET),
        (f"AccountEndpoint=https://a.documents.azure.com:443/;AccountKey={SECRET};", SECRET),
        (f"password={SECRET} user=bob", SECRET),
        (f'{{"access_token":"{SECRET}","token_type":"bearer"}}', SECRET),
        (f"AZURE_CLIENT_SECRET='{SECRET}'", SECRET),
    ],
)
def test_secret_is_masked(text: str, secret: str) -> None:
    out = redact_text(text)
    assert secret not in out
    assert MASK in out


def test_secret_inside_json_escaped_json_is_masked() -> None:
    inner = json.dumps({"client_secret": SECRET, "status": 500})
    outer = json.dumps({"body": inner})
    assert SECRET not in redact_text(outer)
    assert SECRET not in redact_text(json.dumps({"wrapped": outer}))


def test_ordinary_evidence_survives() -> None:
    line = (
        "403 x-ms-substatus: 4000 Access to your account is currently revoked because the "
        "Azure Cosmos DB service is unable to obtain the AAD authentication token for the "
        "account's default identity"
    )
    assert redact_text(line) == line


def test_redact_obj_masks_secret_keys_and_strings_recursively() -> None:
    value = {
        "headers": {"Authorization": f"Bearer {JWT}", "X-Api-Key": SECRET, "x-request-id": "r-1"},
        "items": [f"Bearer {SECRET}", 3, None, ("sig=abc", {"password": SECRET})],
        "status": 500,
    }
    out = redact_obj(value)
    dumped = repr(out)
    assert SECRET not in dumped and JWT not in dumped
    assert out["headers"]["x-request-id"] == "r-1"
    assert out["status"] == 500
    assert out["items"][2] is None
    assert isinstance(out["items"][3], tuple)
    assert value["headers"]["X-Api-Key"] == SECRET  # the input is not modified


@pytest.mark.parametrize(
    "text, kept",
    [
        (
            "curl https://bob:Zq9hunter@platform.adobe.io/ajo/x?y=1",
            "https://***@platform.adobe.io/ajo/x?y=1",
        ),
        ("see ftp://svc:Zq9hunter@files.example.com/a", "ftp://***@files.example.com/a"),
        ("HTTPS://bob:p@Zq9hunter@host/x", "HTTPS://***@host/x"),
        ("https://:Zq9hunter@host", "https://***@host"),
    ],
)
def test_url_userinfo_is_masked(text: str, kept: str) -> None:
    redacted = redact_text(text)
    assert "Zq9hunter" not in redacted
    assert kept in redacted
    assert "Zq9hunter" not in json.dumps(redact_obj({"url": text, "list": [text]}))


def test_urls_without_userinfo_are_left_alone() -> None:
    for text in ("https://host:443/a@b", "mailto:someone@example.com", "https://bob@host/x"):
        assert redact_text(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("{'client_secret': 'YhV8Q~abcdef', 'x': 1}", "YhV8Q~abcdef"),
        ("{'access_token': 'x123456'}", "x123456"),
        ("Server=db;Pwd=Sup3rS3cret!;Database=a", "Sup3rS3cret!"),
        ("password = 'correct horse battery staple'", "horse battery staple"),
        ("Password=P@ss w0rd;Host=x", "w0rd"),
        ("https://login/?client_secret%3DAbC123xyz%26grant=1", "AbC123xyz"),
        ("body=access_token%3Dqwerty987%26x=1", "qwerty987"),
        ("auth=type%3Dmaster%26ver%3D1.0%26sig%3DHMACvalue123%3D", "HMACvalue123"),
        ("token: notajwtvalue42", "notajwtvalue42"),
    ],
)
def test_review_cases_are_masked(text: str, secret: str) -> None:
    assert secret not in redact_text(text)
    assert secret not in str(redact_obj({"line": text}))


def test_prose_is_left_alone() -> None:
    for text in (
        "the token expired at noon",
        "design: the signature of the key",
        "Status: 403 Forbidden",
    ):
        assert redact_text(text) == text
