"""Key Vault data plane through azure-keyvault-keys: read the key, force a remote wrap, unwrap."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ParamSpec, TypeVar
from urllib.parse import urlparse

from diagnose.azure import problems
from diagnose.azure.credential import transport_kwargs
from diagnose.profile import Profile

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.core.exceptions import HttpResponseError
    from azure.keyvault.keys import KeyVaultKey

P = ParamSpec("P")
R = TypeVar("R")

PUBLIC_VAULT_SUFFIXES = (
    ".vault.azure.net",
    ".vault.azure.cn",
    ".vault.usgovcloudapi.net",
    ".managedhsm.azure.net",
)


class KeyVaultRefusal(Exception):
    """Key Vault answered an error: status, error code and inner code as the service sent them."""

    def __init__(self, status: int, code: str | None, inner_code: str | None, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.inner_code = inner_code
        self.message = message

    def evidence(self) -> dict[str, object]:
        return {
            "status": self.status,
            "code": self.code,
            "inner_code": self.inner_code,
            "message": self.message,
        }


@dataclass(frozen=True)
class KeyRef:
    vault_url: str
    name: str
    version: str | None

    @classmethod
    def parse(cls, key_id: str) -> KeyRef:
        url = urlparse(key_id)
        parts = [p for p in url.path.split("/") if p]
        if url.scheme != "https" or len(parts) < 2 or parts[0] != "keys":
            raise ValueError(
                f"{key_id!r} is not a Key Vault key URI (https://<vault>/keys/<name>[/<version>])"
            )
        return cls(f"https://{url.netloc}", parts[1], parts[2] if len(parts) > 2 else None)


def versionless_key_uri(uri: str | None) -> str:
    """`https://<vault>/keys/<name>`, lower-cased, whether or not `uri` names a version."""
    parts = (uri or "").rstrip("/").split("/")
    if len(parts) >= 6 and parts[-3] == "keys":
        parts = parts[:-1]
    return "/".join(parts).lower()


def _refusal(exc: HttpResponseError) -> KeyVaultRefusal:
    error = getattr(exc, "error", None)
    inner = getattr(error, "innererror", None) or {}
    return KeyVaultRefusal(
        int(getattr(exc, "status_code", 0) or 0),
        getattr(error, "code", None),
        inner.get("code") if isinstance(inner, dict) else None,
        getattr(error, "message", None) or str(exc).splitlines()[0],
    )


class KeyVaultProbe:
    def __init__(self, profile: Profile, credential: TokenCredential, key: KeyRef) -> None:
        from azure.keyvault.keys import KeyClient

        self.key = key
        self._credential = credential
        self._profile = profile
        host = urlparse(key.vault_url).hostname or ""
        self._kwargs: dict[str, object] = {
            "verify_challenge_resource": host.endswith(PUBLIC_VAULT_SUFFIXES),
            "retry_total": 1,
            "connection_timeout": 5,
            "read_timeout": 15,
            **transport_kwargs(profile),
        }
        self._client = KeyClient(key.vault_url, credential, **self._kwargs)

    def _call(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ServiceRequestError,
            ServiceResponseError,
        )

        try:
            return func(*args, **kwargs)
        except ClientAuthenticationError as exc:
            if getattr(exc, "status_code", None):  # the vault's own 401 after a token was sent
                raise _refusal(exc) from None
            raise problems.credential_refused(exc) from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise problems.from_transport(exc, self.key.vault_url) from None
        except HttpResponseError as exc:
            raise _refusal(exc) from None

    def get_key(self) -> KeyVaultKey:
        return self._call(self._client.get_key, self.key.name, self.key.version)

    def remote_wrap(self, key_version: str | None, plaintext: bytes) -> bytes:
        """POST wrapkey to the service (the SDK would wrap locally with the public key, proving nothing)."""
        from azure.core.rest import HttpRequest

        value = base64.urlsafe_b64encode(plaintext).rstrip(b"=").decode()
        request = HttpRequest(
            "POST",
            # the SDK types a key's version optional; without one, the latest version wraps
            "/".join(p for p in ("/keys", self.key.name, key_version, "wrapkey") if p),
            json={"alg": "RSA-OAEP-256", "value": value},
        )
        response = self._call(self._client.send_request, request)
        if response.status_code != 200:
            try:
                body = response.json()
            except ValueError:
                body = {}
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise KeyVaultRefusal(
                response.status_code,
                error.get("code"),
                (error.get("innererror") or {}).get("code"),
                str(error.get("message", response.text()[:300])),
            )
        wrapped = response.json()["value"]
        return base64.urlsafe_b64decode(wrapped + "=" * (-len(wrapped) % 4))

    def unwrap(self, key: KeyVaultKey, wrapped: bytes) -> bytes:
        """Unwrap always calls the service."""
        from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm

        crypto = CryptographyClient(key, self._credential, **self._kwargs)
        result = self._call(crypto.unwrap_key, KeyWrapAlgorithm.rsa_oaep_256, wrapped)
        return result.key
