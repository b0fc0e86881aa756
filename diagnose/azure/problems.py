"""The mapping from Azure SDK exceptions to the tool's own limits (`diagnose.errors.ToolLimitation`).

A check that hits one of these cannot decide: its status is `error`, the
limitation is reported (exit 3 when nothing else is wrong), and no finding is
blamed on the customer's setup.
"""

from __future__ import annotations

import re

from diagnose.errors import CredentialRefused, Unreachable

_AADSTS_HINTS = {
    "7000222": "its client secret has expired",
    "7000215": "its client secret is wrong",
    "700016": "its application is not found in the tenant",
    "7000112": "its application is disabled",
    "90002": "the tenant was not found",
    "700027": "its certificate assertion was refused",
}


def aadsts_code(text: str) -> str | None:
    match = re.search(r"AADSTS(\d+)", text)
    return match.group(1) if match else None


def credential_refused(
    exc: BaseException, who: str = "the tool's own Azure credential"
) -> CredentialRefused:
    """Turn an azure-identity failure into a limitation that names the AADSTS code, never a secret."""
    text = str(exc)
    code = aadsts_code(text)
    if code:
        hint = _AADSTS_HINTS.get(code, "see the AADSTS code")
        return CredentialRefused(f"{who} was refused by Entra ID: AADSTS{code} ({hint})")
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return CredentialRefused(f"{who} could not get a token: {first_line[:200]}")


def from_transport(exc: BaseException, url: str) -> Unreachable:
    return Unreachable(f"cannot reach {url}: {type(exc).__name__}")
