"""Key Vault data plane through azure-keyvault-keys' pipeline: read the key, a remote wrap, a remote unwrap."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from diagnose.answers import Fields, MalformedAnswer, refused_in_own_words
from diagnose.azure import pipeline, quiet_sdk_logs
from diagnose.azure.rest import Reply, send
from diagnose.profile import Profile

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

PUBLIC_VAULT_SUFFIXES = (
    ".vault.azure.net",
    ".vault.azure.cn",
    ".vault.usgovcloudapi.net",
    ".managedhsm.azure.net",
)


class KeyVaultRefusal(Exception):
    """Key Vault refused, in its own error shape: status, error code and inner code as it sent them."""

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


@dataclass(frozen=True)
class DataPlaneKey:
    """The key as the data plane answers it: its `kid`, the version in it, and its public JWK
    (`kty`, `key_ops`, base64url `n` and `e`; None where the answer has none)."""

    kid: str
    version: str | None
    kty: str | None = None
    key_ops: tuple[str, ...] = ()
    n: str | None = None
    e: str | None = None


KEY_VAULT = "Key Vault"


def _refusal_or_problem(reply: Reply, what: str) -> Exception:
    """Key Vault's own refusal (its error shape, a status that is an answer), else the limitation.

    A throttle, a 5xx, a body without Key Vault's error code (a gateway's page, a truncated or
    garbled answer) says nothing about the key: it is the tool's limitation, never a finding.
    """
    code = reply.service_error()
    if code is None or reply.status < 400 or not refused_in_own_words(reply.status, code):
        return reply.problem(what)
    return KeyVaultRefusal(reply.status, code, reply.inner_error(), reply.error_message or code)


def _b64u_bytes(value: str) -> bytes:
    """base64url, with or without its padding (Key Vault's and JWK's encoding)."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _b64(value: str, fields: Fields, name: str) -> bytes:
    try:
        return _b64u_bytes(value)
    except (ValueError, TypeError):
        raise fields.malformed(name, "is not base64url") from None


WRAP_ALGORITHM = "RSA-OAEP-256"


def local_wrap(key: DataPlaneKey, plaintext: bytes) -> bytes:
    """Wrap `plaintext` here with the key's public JWK, through azure-keyvault-keys' local provider
    (`CryptographyClient.from_jwk`, the path the SDK's CryptographyClient takes for wrapKey).

    Key Vault refuses a remote wrap outside the key's nbf/exp window but keeps unwrapping
    ("Operations outside the nbf / exp window are automatically disallowed, except for decrypt,
    release, unwrap, and verify", https://learn.microsoft.com/azure/key-vault/keys/about-keys-details#key-attributes),
    so a remote unwrap of a local wrap proves what Cosmos DB needs of an existing key.
    """
    from azure.core.exceptions import AzureError
    from azure.keyvault.keys import JsonWebKey
    from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm

    where = f"Key Vault's answer for the key {key.kid}"
    if not (key.kty and key.n and key.e):
        missing = [name for name in ("kty", "n", "e") if not getattr(key, name)]
        raise MalformedAnswer(f"{where} has no public key to wrap with (no {', '.join(missing)})")
    try:
        jwk = JsonWebKey(
            kid=key.kid,
            kty=key.kty,
            key_ops=list(key.key_ops),
            n=_b64u_bytes(key.n),
            e=_b64u_bytes(key.e),
        )
        client = CryptographyClient.from_jwk(jwk)
        return bytes(client.wrap_key(KeyWrapAlgorithm(WRAP_ALGORITHM), plaintext).encrypted_key)
    except (ValueError, TypeError, NotImplementedError, AzureError) as exc:
        raise MalformedAnswer(
            f"{where}: its public key cannot wrap with {WRAP_ALGORITHM} ({str(exc)[:160]})"
        ) from None


class KeyVaultProbe:
    """The data-plane calls of the round trip, sent through the SDK client's pipeline (its
    challenge authentication) and read in one place: `get_key` and the remote `unwrap`."""

    def __init__(self, profile: Profile, credential: TokenCredential, key: KeyRef) -> None:
        from azure.keyvault.keys import KeyClient

        quiet_sdk_logs()
        self.key = key
        host = urlparse(key.vault_url).hostname or ""
        self._client = KeyClient(
            key.vault_url,
            credential,
            verify_challenge_resource=host.endswith(PUBLIC_VAULT_SUFFIXES),
            retry_policy=pipeline.retry_policy(),
            transport=pipeline.transport(profile, KEY_VAULT),
        )

    def _send(self, method: str, path: str, what: str, body: object = None) -> Fields:
        from azure.core.rest import HttpRequest

        request = HttpRequest(method, path, json=body)
        reply = send(self._client, request, KEY_VAULT, self.key.vault_url)
        if reply.status != 200:
            raise _refusal_or_problem(reply, what)
        return reply.fields(what)

    def _path(self, version: str | None, operation: str = "") -> str:
        # without a version, the latest one answers
        return "/".join(p for p in ("/keys", self.key.name, version, operation) if p)

    def get_key(self) -> DataPlaneKey:
        path = self._path(self.key.version) if self.key.version else self._path(None) + "/"
        answer = self._send("GET", path, f"the key {self.key.name}")
        jwk = answer.obj("key")
        kid = jwk.text("kid")
        parts = kid.rstrip("/").split("/")
        return DataPlaneKey(
            kid,
            parts[-1] if len(parts) >= 6 and parts[-3] == "keys" else None,
            jwk.opt_text("kty"),
            tuple(jwk.opt_texts("key_ops")),
            jwk.opt_text("n"),
            jwk.opt_text("e"),
        )

    def _crypto(self, version: str | None, operation: str, data: bytes) -> bytes:
        value = base64.urlsafe_b64encode(data).rstrip(b"=").decode()
        answer = self._send(
            "POST",
            self._path(version, operation),
            f"{operation} with the key {self.key.name}",
            {"alg": WRAP_ALGORITHM, "value": value},
        )
        return _b64(answer.text("value"), answer, "value")

    def unwrap(self, version: str | None, wrapped: bytes) -> bytes:
        """POST unwrapkey: the private key never leaves the vault, so this proves the vault's part."""
        return self._crypto(version, "unwrapkey", wrapped)
