"""Tokens the lab issues and checks: Entra ID access tokens and Adobe IMS tokens (RS256 JWTs)."""

from __future__ import annotations

import time
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from diagnose.lab.keys import b64u_uint

IMS_ISSUER = "ims-na1"
TOKEN_LIFETIME_S = 3599


def normalize_audience(value: str) -> str:
    """`https://host:port//.default` -> `https://host:port`: strip `/.default`, then trailing slashes."""
    value = value.strip()
    if value.endswith("/.default"):
        value = value[: -len("/.default")]
    return value.rstrip("/").lower()


def audience_forms(url: str, drop_port: bool = True) -> set[str]:
    """A service URL as an audience: with its port and, if `drop_port`, without (Cosmos DB drops it)."""
    url = normalize_audience(url)
    parts = urllib.parse.urlsplit(url)
    forms = {url}
    if drop_port and parts.port is not None:
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        forms.add(f"{parts.scheme}://{host}")
        forms.add(f"{parts.scheme}://{parts.hostname}")  # `https://::1` as Cosmos sends it
    return forms


@dataclass
class Signer:
    """Signs and verifies the lab's tokens with one RSA key, published as a JWKS."""

    key: rsa.RSAPrivateKey
    kid: str = "diagnose-lab-1"

    def jwks(self) -> dict[str, Any]:
        pub = self.key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.kid,
                    "alg": "RS256",
                    "n": b64u_uint(pub.n),
                    "e": b64u_uint(pub.e),
                }
            ]
        }

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this lab signed and that has not expired, else None."""
        try:
            return jwt.decode(
                token,
                self.key.public_key(),
                algorithms=["RS256"],
                options={"verify_aud": False, "require": ["exp"]},
                leeway=5,
            )
        except jwt.PyJWTError:
            return None

    def entra_token(
        self,
        issuer: str,
        tenant_id: str,
        audience: str,
        app_id: str,
        object_id: str,
        roles: list[str],
    ) -> tuple[str, int]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME_S,
            "appid": app_id,
            "azp": app_id,
            "appidacr": "1",
            "idtyp": "app",
            "oid": object_id,
            "sub": object_id,
            "tid": tenant_id,
            "uti": uuid.uuid4().hex[:22],
            "ver": "2.0",
        }
        if roles:
            claims["roles"] = roles
        return self.sign(claims), TOKEN_LIFETIME_S

    def ims_token(self, client_id: str, org: str, scopes: str) -> tuple[str, int]:
        now = int(time.time())
        claims = {
            "iss": IMS_ISSUER,
            "type": "access_token",
            "client_id": client_id,
            "user_id": f"{client_id}@techacct.adobe.com",
            "org": org,
            "as": "ims-na1",
            "scope": scopes,
            "iat": now,
            "exp": now + 86399,
            "id": uuid.uuid4().hex,
        }
        return self.sign(claims), 86399
