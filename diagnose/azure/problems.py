"""The mapping from Azure SDK exceptions to the tool's own limits (`diagnose.errors.ToolLimitation`).

A check that hits one of these cannot decide: its status is `error`, the
limitation is reported (exit 3 when nothing else is wrong), and no finding is
blamed on the customer's setup. Each message says what happened and, where the
tool's own setup is at fault, what fixes it.
"""

from __future__ import annotations

import re

from diagnose.errors import CredentialRefused, Unreachable

_AADSTS_HINTS = {
    "7000222": "its client secret has expired: create a new one and set AZURE_CLIENT_SECRET",
    "7000215": "its client secret is wrong: check AZURE_CLIENT_SECRET",
    "700016": "its application is not found in the tenant: check AZURE_CLIENT_ID and AZURE_TENANT_ID",
    "7000112": "its application is disabled",
    "90002": "the tenant was not found: check AZURE_TENANT_ID",
    "700027": "its certificate assertion was refused: check AZURE_CLIENT_CERTIFICATE_PATH",
}
HOW_TO_SIGN_IN = (
    "run `az login`, or set AZURE_CLIENT_ID and AZURE_CLIENT_SECRET "
    "(or AZURE_CLIENT_CERTIFICATE_PATH) with AZURE_TENANT_ID"
)
MAX_HINTS_CHARS = 1200


def aadsts_code(text: str) -> str | None:
    match = re.search(r"AADSTS(\d+)", text)
    return match.group(1) if match else None


def _no_credential(exc: BaseException) -> bool:
    """Whether no credential could even try (none configured, or none of the chain available),
    as opposed to a configured one that Entra ID, or the way to it, failed."""
    from azure.identity import CredentialUnavailableError

    return isinstance(exc, CredentialUnavailableError) or (
        "failed to retrieve a token from the included credentials" in str(exc)
    )


def credential_refused(
    exc: BaseException, who: str = "the tool's own Azure credential"
) -> CredentialRefused:
    """Turn an azure-identity failure into a limitation that names the AADSTS code, never a secret.

    When no credential could sign in (none configured), it says how to sign in and keeps what
    each credential of the chain said (the SDK's own hint lines), on one line. When a configured
    one failed without an AADSTS code, it says what went wrong on the way to Entra ID.
    """
    text = str(exc)
    code = aadsts_code(text)
    if code:
        hint = _AADSTS_HINTS.get(code, "see the AADSTS code")
        return CredentialRefused(f"{who} was refused by Entra ID: AADSTS{code} ({hint})")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    first = (lines[0] if lines else type(exc).__name__).rstrip(".")
    if _no_credential(exc):
        hints = "; ".join(line for line in lines[1:] if line != "Attempted credentials:")
        said = f". The SDK said: {hints[:MAX_HINTS_CHARS]}" if hints else ""
        return CredentialRefused(
            f"{who} could not get a token: {first}. To sign in, {HOW_TO_SIGN_IN}{said}".rstrip(".")
        )
    reason = transport_reason(exc)
    detail = first if reason == type(exc).__name__ else reason
    return CredentialRefused(f"{who} could not get a token from Entra ID: {detail[:300]}")


# What a transport error's chain says, in the words a user recognises (first match wins).
_TRANSPORT_REASONS = (
    ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed"),
    ("certificate verify failed", "certificate verify failed"),
    ("WRONG_VERSION_NUMBER", "the TLS handshake failed (is it HTTPS?)"),
    ("SSLError", "the TLS handshake failed"),
    ("ProxyError", "the proxy refused or closed the connection"),
    ("Unable to connect to proxy", "the proxy refused or closed the connection"),
    ("Name or service not known", "the name does not resolve"),
    ("nodename nor servname", "the name does not resolve"),
    ("Failed to resolve", "the name does not resolve"),
    ("getaddrinfo failed", "the name does not resolve"),
    ("Connection refused", "the connection was refused"),
    ("IncompleteRead", "the answer was cut short"),
    ("Connection reset", "the connection was reset"),
    ("Connection aborted", "the connection was closed before an answer"),
    ("RemoteDisconnected", "the connection was closed before an answer"),
    ("Read timed out", "no answer within the read time-out"),
    ("timed out", "the connection timed out"),
)


def transport_reason(exc: BaseException) -> str:
    """What went wrong on the wire, from the exception and its causes."""
    seen: list[str] = []
    current: BaseException | None = exc
    for _ in range(8):
        if current is None:
            break
        seen.append(f"{type(current).__name__}: {current}")
        inner = (
            getattr(current, "inner_exception", None) or current.__cause__ or current.__context__
        )
        current = inner if isinstance(inner, BaseException) else None
    text = " | ".join(seen)
    for marker, reason in _TRANSPORT_REASONS:
        if marker in text:
            return reason
    return type(exc).__name__


def from_transport(exc: BaseException, url: str, service: str | None = None) -> Unreachable:
    """`Key Vault: certificate verify failed (https://…)`, `ARM: the connection was refused (…)`."""
    reason = transport_reason(exc)
    return Unreachable(f"{service}: {reason} ({url})" if service else f"{reason} ({url})")
