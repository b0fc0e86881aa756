"""The lab's OIDC issuer (a CI system's, such as GitHub Actions') and Entra ID's workload identity
federation: a federated credential on the diagnosing identity trusts the issuer's tokens.

The issuer publishes its discovery document and its keys on the Entra host under `/issuers/ci`
(lab's choice: one more host would be one more certificate name) and issues ID tokens the way a
CI system does (RS256, `iss`, `sub`, `aud`, `iat`, `nbf`, `exp`). Entra ID checks a presented
assertion as Microsoft documents it (docs/research/audit-and-inventory-shapes.md §8): the issuer
must match a federated credential of the application, then the subject, then the audience (the
single value `api://AzureADTokenExchange`); the signature is checked against the keys the issuer
publishes at its `jwks_uri`, and the assertion must be inside its time range. Refusals carry the
published AADSTS codes: 700211 (no credential for the issuer), 700213 (subject), 700212
(audience; its text is not published verbatim: lab's choice), 700027 (signature), 700024 (time
range).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from diagnose.lab.jwts import Signer

AUDIENCE = "api://AzureADTokenExchange"
ISSUER_PATH = "/issuers/ci"
SUBJECT = "repo:contoso/ajo-infra:environment:production"  # a GitHub Actions environment's subject
TOKEN_LIFETIME_S = 300  # GitHub's ID tokens live minutes (lab's choice: 5)
LEEWAY_S = 0  # lab's choice: Entra's clock skew allowance is not published
_GUIDE = (
    "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation"
)


@dataclass(frozen=True)
class FederatedCredential:
    """A federated identity credential of an application (what `az ad app federated-credential
    create` records): exact issuer, subject and audiences, no wildcard."""

    name: str
    issuer: str
    subject: str
    audiences: tuple[str, ...] = (AUDIENCE,)


@dataclass
class Issuer:
    """An OIDC issuer at `url`: publishes its keys, issues ID tokens."""

    url: str
    key: rsa.RSAPrivateKey
    kid: str = "lab-ci-1"

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/.well-known/jwks",
            "subject_types_supported": ["public", "pairwise"],
            "response_types_supported": ["id_token"],
            "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self) -> dict[str, Any]:
        return Signer(self.key, self.kid).jwks()

    def token(
        self,
        subject: str = SUBJECT,
        audience: str = AUDIENCE,
        *,
        lifetime_s: float = TOKEN_LIFETIME_S,
        issued_at: float | None = None,
        issuer: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
    ) -> str:
        """An ID token as the CI system issues it; `key`/`issuer` let a test forge one."""
        now = time.time() if issued_at is None else issued_at
        claims = {
            "iss": issuer or self.url,
            "sub": subject,
            "aud": audience,
            "jti": str(uuid.uuid4()),
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + lifetime_s),
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})


@dataclass
class Federation:
    """What Entra ID knows: the issuers it can fetch keys from, and each application's credentials."""

    issuers: dict[str, Issuer] = field(default_factory=dict)
    credentials: dict[str, list[FederatedCredential]] = field(default_factory=dict)

    def trust(self, app_id: str, credential: FederatedCredential) -> None:
        self.credentials.setdefault(app_id.lower(), []).append(credential)

    @staticmethod
    def is_external(assertion: str, app_id: str) -> bool:
        """An assertion another issuer signed (not the application's own certificate assertion)."""
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        return str(claims.get("iss", "")).lower() != app_id.lower()

    def refusal(
        self, assertion: str, app_id: str, now: float | None = None
    ) -> tuple[int, str, str] | None:
        """None when Entra ID accepts `assertion` for `app_id`; else (status, error, AADSTS text)."""
        claims = jwt.decode(assertion, options={"verify_signature": False})
        issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
        mine = [c for c in self.credentials.get(app_id.lower(), []) if c.issuer == issuer]
        if not mine:
            return _no_record(700211, "issuer", issuer)
        mine = [c for c in mine if c.subject == subject]  # exact and case-sensitive
        if not mine:
            return _no_record(700213, "subject", subject)
        if not any(a in c.audiences for c in mine for a in audiences):
            return _no_record(700212, "audience", ", ".join(audiences))
        published = self.issuers.get(issuer)
        try:
            keys = jwt.PyJWKSet.from_dict(published.jwks()).keys if published else []
            kid = jwt.get_unverified_header(assertion).get("kid")
            key = next((k for k in keys if k.key_id == kid), None)
            if key is None:
                raise jwt.InvalidSignatureError("no published key has this kid")
            jwt.decode(
                assertion,
                key.key,
                algorithms=["RS256"],  # "Only issuers that provide tokens signed using RS256"
                audience=audiences,
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "require": ["exp"],
                },
            )
        except jwt.PyJWTError:
            return (
                401,
                "invalid_client",
                "AADSTS700027: Client assertion failed signature validation.",
            )
        now = time.time() if now is None else now
        exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
        if (
            not isinstance(exp, int | float)
            or exp + LEEWAY_S <= now
            or (isinstance(nbf, int | float) and nbf - LEEWAY_S > now)
        ):
            return (
                400,
                "invalid_client",
                "AADSTS700024: Client assertion is not within its valid time range.",
            )
        return None


def _no_record(code: int, what: str, value: str) -> tuple[int, str, str]:
    """Entra ID's refusal of an assertion no federated credential matches on `what`."""
    return (
        401,
        "invalid_client",
        f"AADSTS{code}: No matching federated identity record found for presented assertion {what} '{value}'. "
        f"Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {_GUIDE}",
    )


def lab_issuer(entra_url: str) -> Issuer:
    """The lab's CI issuer, under the Entra host (its key cached like the lab's others)."""
    from diagnose.lab.keys import cached_rsa_key

    return Issuer(entra_url.rstrip("/") + ISSUER_PATH, cached_rsa_key("oidc-issuer", 2048))


def lab_federation(entra_url: str, diagnoser_app_id: str) -> Federation:
    """Entra ID's side: the diagnosing identity trusts the lab issuer's production environment."""
    issuer = lab_issuer(entra_url)
    federation = Federation({issuer.url: issuer})
    federation.trust(diagnoser_app_id, FederatedCredential("ci-production", issuer.url, SUBJECT))
    return federation
