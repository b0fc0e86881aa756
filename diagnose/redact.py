"""Mask secrets in anything diagnose prints or records: the project's one redaction module.

`redact_text` masks secrets inside free text (log lines, error bodies, headers);
`redact_obj` walks JSON-like values, masks every value under a secret-looking
key, and redacts the remaining strings with `redact_text`.

What is masked: bearer tokens and JWTs, `Authorization` header values (Cosmos
`type=aad&ver=1.0&sig=...` too), client secrets, `x-api-key` values, passwords,
access/refresh/id tokens, SAS signatures (`sig=`), account keys
(`AccountKey=`, `SharedAccessKey=`), Storage `SharedKey acct:signature`, API
Management's `Ocp-Apim-Subscription-Key`, in `key=value`, `key: value` and JSON
`"key": "value"` forms, JSON-escaped or not, HTML-escaped (`&quot;`, `&#61;`) or
`\\u`-escaped (`\\u0022`, `\\u003d`); the `user:password@` of a URL
(`scheme://***@host`); base64 text that decodes to such a framing (`key=value`
pairs holding a secret); a JWT without its header (`payload.signature` whose
payload decodes to a JSON object of token claims); and, verbatim wherever they
appear, the values of the tool's own secret variables (`secret_variables`,
8 characters or more), matched with one precompiled alternation.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
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
        "ocp_apim_subscription_key",
        "subscription_key",
    }
)

# The tool's own secrets, read from its environment: masked verbatim wherever they appear.
SECRET_VARIABLE_SUFFIXES = ("_SECRET", "_PASSWORD", "_KEY", "_TOKEN")
SECRET_VARIABLE_PREFIXES = ("DIAGNOSE_", "AZURE_")
OTHER_SECRET_VARIABLES = ("PGPASSWORD",)  # `delays` reads it (libpq's own variable)
MIN_SECRET_VALUE = 8  # shorter values would mask ordinary words

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
    r"|(?:ocp[-_]apim[-_])?subscription[-_]key"
)

# Quotes and `=` as they appear once text has been escaped for JSON, HTML or a \\u / \\x string.
_QUOTE = r'(?:\\*"|&quot;|&#0*34;|&#x0*22;|\\+u0022|\\+x22)'
_EQUALS = r"(?:[:=]|%3D|&#0*61;|&#x0*3d;|&equals;|\\+u003d|\\+x3d)"
_COLON = r"(?::|&#0*58;|&#x0*3a;|&colon;|\\+u003a)"
# Authorization schemes whose credential follows a space.
_SCHEMES = r"(?:bearer|basic|pop|sharedkey(?:lite)?|sharedaccesssignature|hmac-sha256|digest)\s+"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # JSON (possibly escaped once or more): "client_secret": "value" / \"client_secret\":\"value\"
    (
        re.compile(
            r"(?i)("
            + _QUOTE
            + r"(?:"
            + _KEY_NAMES
            + r"|token|secret|sig|signature)"
            + _QUOTE
            + r"\s*"
            + _COLON
            + r"\s*"
            + _QUOTE
            + r")((?:(?!"
            + _QUOTE
            + r')[^"\n])+)'
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
            r"(?!\*\*\*)(?:" + _SCHEMES + r")?(?:\\.|(?!\2)[^\\\n])+\2"
        ),
        r"\1\2" + MASK + r"\2",
    ),
    # Header / key=value / key: value forms, URL-encoded too (value runs to a separator).
    (
        re.compile(
            r"(?i)((?<![a-z])(?:" + _KEY_NAMES + r"|pwd)\b['\"]?\s*" + _EQUALS + r"\s*)"
            r"(?!\*\*\*)(?:" + _SCHEMES + r")?((?:(?!%26|&#|&quot;|\\u00)[^\s&;,\"'\\])+)"
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
    # Storage Shared Key anywhere: `SharedKey account:signature`.
    (re.compile(r"(?i)(\bSharedKey(?:Lite)?\s+[^\s:]+:)(?!\*\*\*)[^\s,;\"'&]+"), r"\1" + MASK),
    # `token=...` / `secret=...` in query strings or logs (not a word like "tokens"); after a
    # colon, only a value that is not a plain word ("could not get a token: DefaultAzureCredential
    # failed" and "a token: EnvironmentCredential: ... unavailable" are prose, "token: 9fX-…" is not).
    (
        re.compile(
            r"(?i)(\b(?:token|secret)['\"]?\s*(?:=|%3D|:(?!//)(?!\s*[A-Za-z]+(?::\s|(?![^\s&;,\"'\\]))))\s*)"
            r"(?!\*\*\*)(?:(?!%26)[^\s&;,\"'\\])+"
        ),
        r"\1" + MASK,
    ),
)


def is_secret_variable(name: str) -> bool:
    """AZURE_* / DIAGNOSE_* names ending in _SECRET, _PASSWORD, _KEY or _TOKEN, and PGPASSWORD."""
    return name in OTHER_SECRET_VARIABLES or (
        name.startswith(SECRET_VARIABLE_PREFIXES) and name.endswith(SECRET_VARIABLE_SUFFIXES)
    )


def secret_variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The tool's own secret variables that are set, with values of 8 characters or more."""
    env = os.environ if environ is None else environ
    names = _secret_names(frozenset(env)) if environ is None else filter(is_secret_variable, env)
    return {n: v for n in names if len(v := env.get(n) or "") >= MIN_SECRET_VALUE}


@functools.lru_cache(maxsize=8)
def _secret_names(names: frozenset[str]) -> tuple[str, ...]:
    """The secret names among the environment's (cached: the names rarely change, values may)."""
    return tuple(sorted(filter(is_secret_variable, names)))


@functools.lru_cache(maxsize=8)
def _alternation(values: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for every value, longest first (a value inside another is masked whole)."""
    return re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))


def _mask_own_secrets(text: str) -> str:
    values = tuple(sorted(set(secret_variables().values())))
    return _alternation(values).sub(MASK, text) if values else text


# For each of _PATTERNS, in order: literals (lower-case) one of which a match must contain; a
# pattern whose literals are all absent from a text is not run (most log lines hold none).
_KEY_LITERALS = ("auth", "secret", "key", "token", "passw", "pwd", "sig", "cookie", "assertion")
_NEEDLES: tuple[tuple[str, ...], ...] = (
    _KEY_LITERALS,
    ("passw", "pwd", "key"),
    _KEY_LITERALS,
    _KEY_LITERALS,
    ("sig",),
    ("bearer",),
    ("@",),
    ("eyj",),
    ("sharedkey",),
    ("token", "secret"),
)


def _patterns(text: str) -> str:
    low = text.lower()
    for needles, (pattern, replacement) in zip(_NEEDLES, _PATTERNS, strict=True):
        if any(needle in low for needle in needles):
            text = pattern.sub(replacement, text)
    return text


# Runs of base64 / base64url long enough to hide a `key=value` pair, and two-segment tokens.
_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/_=-])")
_HEADERLESS_JWT = re.compile(
    r"(?<![A-Za-z0-9_.-])\.?([A-Za-z0-9_-]{16,})\.([A-Za-z0-9_-]{16,})(?![A-Za-z0-9_.-])"
)
_CLAIMS = frozenset({"aud", "iss", "sub", "exp", "nbf", "iat", "oid", "tid", "appid", "azp", "jti"})


def _b64decode(run: str) -> str | None:
    """The text a base64 or base64url run decodes to, or None when it is not printable text."""
    data = run.rstrip("=")
    alphabet = base64.urlsafe_b64decode if ("-" in data or "_" in data) else base64.b64decode
    try:
        raw = alphabet(data + "=" * (-len(data) % 4))
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return text if text and all(c.isprintable() or c in "\t\r\n" for c in text) else None


def _encoded_secret(match: re.Match[str]) -> str:
    """A base64 run whose decoded text holds a secret framing is masked whole."""
    decoded = _b64decode(match.group())
    if decoded is None or not _MAY_HOLD_SECRET.search(decoded):
        return match.group()
    return MASK if _patterns(decoded) != decoded else match.group()


def _headerless_jwt(match: re.Match[str]) -> str:
    """`payload.signature` whose payload is a JSON object of token claims: a JWT without its header."""
    decoded = _b64decode(match.group(1))
    if decoded is None or not decoded.lstrip().startswith("{"):
        return match.group()
    try:
        claims = json.loads(decoded)
    except ValueError:
        return match.group()
    return MASK if isinstance(claims, dict) and _CLAIMS & claims.keys() else match.group()


# A cheap test before running every pattern over decoded base64.
_MAY_HOLD_SECRET = re.compile(
    r"(?i)secret|token|key|password|passwd|pwd|sig|authorization|cookie|assertion"
)


def redact_text(text: str) -> str:
    """`text` with every recognisable secret replaced by `***`."""
    text = _patterns(_mask_own_secrets(text))
    text = _HEADERLESS_JWT.sub(_headerless_jwt, text)
    return _BASE64_RUN.sub(_encoded_secret, text)


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
