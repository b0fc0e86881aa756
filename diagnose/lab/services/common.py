"""What every Azure-side service shares: the lab context and bearer-token checks."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

from diagnose.lab.jwts import IMS_ISSUER, Signer, audience_forms, normalize_audience
from diagnose.lab.state import State
from diagnose.lab.transport import Denied, Request, Response, Service

# Public audiences each lab service also accepts (docs/lab.md "Addresses").
PUBLIC_AUDIENCES = {
    "graph": {"https://graph.microsoft.com"},
    "arm": {
        "https://management.azure.com",
        "https://management.core.windows.net",
    },
    "vault": {"https://vault.azure.net"},
    "cosmos": {"https://cosmos.azure.com"},
    "loganalytics": {"https://api.loganalytics.io"},
}


@dataclass
class Context:
    state: State
    signer: Signer
    urls: dict[str, str]

    def issuer(self, tenant_id: str) -> str:
        return f"{self.urls['entra']}/{tenant_id}/v2.0"

    @property
    def shared_host(self) -> bool:
        """True when every service listens on one address (`::1` with ports, where 127.0.0.x is absent)."""
        return len({urllib.parse.urlsplit(u).hostname for u in self.urls.values()}) == 1

    def audiences(self, service: str) -> set[str]:
        """What a token's `aud` may be for `service`. On a shared address only Cosmos DB (which
        drops the port from its scope) accepts the port-less form, so audiences stay distinct."""
        drop_port = service == "cosmos" or not self.shared_host
        return audience_forms(self.urls[service], drop_port) | PUBLIC_AUDIENCES.get(service, set())

    def service_for_audience(self, audience: str) -> str | None:
        """Which lab service a requested resource/scope names (None: unknown to this tenant)."""
        aud = normalize_audience(audience)
        for service in PUBLIC_AUDIENCES:
            if aud in self.audiences(service):
                return service
        return None


class AzureService(Service):
    """A service that takes Entra ID bearer tokens for its own audience."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx.state)
        self.ctx = ctx

    def unauthenticated(self, req: Request, reason: str) -> Response:
        """The 401 answer of this service (missing, invalid or wrong-audience token)."""
        return self.error(401, "InvalidAuthenticationToken", reason)

    def authenticate(self, req: Request) -> dict[str, Any]:
        """The verified claims of the caller's Entra token, or raise Denied with a 401."""
        token = self.token_of(req)
        if not token:
            raise Denied(self.unauthenticated(req, "missing"))
        claims = self.ctx.signer.verify(token)
        if claims is None or claims.get("iss") == IMS_ISSUER:
            raise Denied(self.unauthenticated(req, "invalid"))
        if claims.get("tid") != self.world.tenant_id:
            raise Denied(self.unauthenticated(req, "tenant"))
        if normalize_audience(str(claims.get("aud", ""))) not in self.ctx.audiences(self.name):
            raise Denied(self.unauthenticated(req, "audience:" + str(claims.get("aud"))))
        req.caller_app_id = claims.get("appid")
        return claims

    def token_of(self, req: Request) -> str | None:
        return req.bearer()
