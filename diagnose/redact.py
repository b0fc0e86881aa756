"""Mask secrets in anything diagnose prints or records: the project's one redaction module.

`redact_text` masks secrets inside free text (log lines, error bodies, headers);
`redact_obj` walks JSON-like values, masks every value under a secret-looking
key, and redacts the remaining strings with `redact_text`.

What is masked: bearer tokens and JWTs, `Authorization` header values (Cosmos
`type=aad&ver=1.0&sig=...` too), client secrets, `x-api-key` values, passwords,
access/refresh/id tokens, SAS signatures (`sig=`), account keys
(`AccountKey=`, `SharedAccessKey=`), in `key=value`, `key: value` and JSON
`"key": "value"` forms, JSON-escaped or not; and the `user:password@` of a URL
(`scheme://***@host`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeVar, cast

MASK = "***"

# Keys whose value is a secret wherever they appear (compared lower-case, with - and _ equal).
SECRET_KEYS = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "client_secret",
        "clientsecret",
        "azure_client_secret",
        "diagnose_adobe_client_secret",
        "x_api_key",
        "api_key",
        "apikey",
        "access_token",
        "refresh_token",
        "id_token",
        "token",
        "password",
        "passwd",
        "pwd",
        "secret",
        "sig",
        "signature",
        "accountkey",
        "account_key",
        "sharedaccesskey",
        "primarymasterkey",
        "secondarymasterkey",
        "masterkey",
        "client_assertion",
        "assertion",
        "cookie",
        "set_cookie",
    }
)

T = TypeVar("T")


def _norm_key(key: str) -> str:
    return key.strip().lower().replace("-", "_")


def is_secret_key(key: object) -> bool:
    """True for a mapping key whose value must never be shown."""
    return isinstance(key, str) and _norm_key(key) in SECRET_KEYS


# Key names for free text: written with `-` or `_`, any case (the regex below is case-insensitive).
_KEY_NAMES = (
    r"authorization|proxy[-_]authorization|(?:azure[-_]|diagnose[-_]adobe[-_])?client[-_]?secret"
    r"|x[-_]api[-_]key|api[-_]?key|access[-_]token|refresh[-_]token|id[-_]token|password|passwd"
    r"|client[-_]assertion|primary[-_]?master[-_]?key|secondary[-_]?master[-_]?key"
    r"|account[-_]?key|shared[-_]?access[-_]?key|cookie|set[-_]cookie"
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # JSON (possibly escaped once or more): "client_secret": "value" / \"client_secret\":\"value\"
    (
        re.compile(
            r'(?i)((?:\\*")(?:'
            + _KEY_NAMES
            + r'|token|secret|sig|signature)(?:\\*")\s*:\s*(?:\\*"))'
            r'((?:[^"\\]|\\(?!"))+)'
        ),
        r"\1" + MASK,
    ),
    # Connection strings: Password=...; / AccountKey=...; (the value runs to `;`, spaces and all).
    (
        re.compile(
            r"(?i)(\b(?:password|pwd|accountkey|sharedaccesskey)\s*=\s*)(?!\*\*\*)(?=[^;\n]*;)[^;\n]+"
        ),
        r"\1" + MASK,
    ),
    # key: 'quoted value' / key = "quoted value" (Python reprs, YAML, logs): up to the closing quote.
    (
        re.compile(
            r"(?i)(\b(?:" + _KEY_NAMES + r"|pwd|token|secret)\b['\"]?\s*(?:[:=]|%3D)\s*)(['\"])"
            r"(?!\*\*\*)(?:(?:bearer|basic|pop)\s+)?(?:\\.|(?!\2)[^\\\n])+\2"
        ),
        r"\1\2" + MASK + r"\2",
    ),
    # Header / key=value / key: value forms, URL-encoded too (value runs to a separator).
    (
        re.compile(
            r"(?i)((?<![a-z])(?:" + _KEY_NAMES + r"|pwd)\b['\"]?\s*(?:[:=]|%3D)\s*)"
            r"(?!\*\*\*)(?:(?:bearer|basic|pop)\s+)?((?:(?!%26)[^\s&;,\"'\\])+)"
        ),
        r"\1" + MASK,
    ),
    # Cosmos authorization token and SAS signatures: sig=... / &sig=... / sig%3D...
    (re.compile(r"(?i)((?<![a-z])sig(?:=|%3D))(?!\*\*\*)(?:(?!%26)[^\s&;,\"'\\])+"), r"\1" + MASK),
    # Bearer tokens anywhere.
    (re.compile(r"(?i)(\bbearer\s+)(?!\*\*\*)[A-Za-z0-9\-._~+/]+=*"), r"\1" + MASK),
    # Credentials in a URL's userinfo: scheme://user:password@host -> scheme://***@host.
    (
        re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)(?!\*\*\*@)[^\s/?#@:'\"<>]*:[^\s/?#'\"<>]*@"),
        r"\1" + MASK + "@",
    ),
    # JWTs anywhere (header.payload.signature, base64url, header starts with eyJ).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
    # `token=...` / `token: ...` / `secret=...` in query strings or logs (not a word like "tokens").
    (
        re.compile(
            r"(?i)(\b(?:token|secret)['\"]?\s*(?:=|%3D|:(?!//))\s*)(?!\*\*\*)(?:(?!%26)[^\s&;,\"'\\])+"
        ),
        r"\1" + MASK,
    ),
)


def redact_text(text: str) -> str:
    """`text` with every recognisable secret replaced by `***`."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_obj(obj: T) -> T:
    """A copy of a JSON-like value with secrets masked (values under secret keys, and inside strings).

    The copy has the value's shape (a mapping comes back as a dict).
    """
    return cast(T, _redacted(obj))


def _redacted(obj: object) -> object:
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, Mapping):
        return {
            key: (MASK if is_secret_key(key) and value not in (None, "") else _redacted(value))
            for key, value in obj.items()
        }
    if isinstance(obj, tuple):
        return tuple(_redacted(v) for v in obj)
    if isinstance(obj, list):
        return [_redacted(v) for v in obj]
    return obj
