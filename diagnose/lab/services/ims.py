"""Adobe IMS: the OAuth server-to-server token (v3)."""

from __future__ import annotations

import hmac

from diagnose.lab.services.common import Context
from diagnose.lab.transport import Request, Response, Service


class Ims(Service):
    name = "ims"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx.state)
        self.ctx = ctx
        self.route("POST", r"/ims/token/v3", self.token)

    def error(self, status: int, code: str, message: str, **extra: object) -> Response:
        return Response(status, {"error": code, "error_description": message})

    def not_found(self, req: Request) -> Response:
        return self.error(404, "not_found", "The requested resource was not found.")

    def token(self, req: Request) -> Response:
        form = {**req.query, **req.form()}
        adobe = self.state.world.adobe
        client_id = form.get("client_id", "")
        if client_id:
            req.caller_app_id = client_id
        if form.get("grant_type") != "client_credentials":
            return self.error(400, "unsupported_grant_type", "unsupported grant_type parameter")
        if client_id != adobe.client_id:
            return self.error(400, "invalid_client", "invalid client_id parameter")
        if not hmac.compare_digest(
            form.get("client_secret", "").encode(), adobe.client_secret.encode()
        ):
            return self.error(401, "invalid_client", "invalid client_secret parameter")
        if not adobe.enabled:
            return self.error(400, "invalid_client", "client is disabled")
        allowed = {s.strip() for s in adobe.scopes.split(",")}
        asked = [s.strip() for s in form.get("scope", "").split(",") if s.strip()]
        if not asked or set(asked) - allowed:
            bad = ",".join(sorted(set(asked) - allowed)) or "(none)"
            return self.error(400, "invalid_scope", f"Invalid scope(s): {bad}")
        token, lifetime = self.ctx.signer.ims_token(client_id, adobe.ims_org, ",".join(asked))
        return Response(
            200, {"access_token": token, "token_type": "bearer", "expires_in": lifetime}
        )
