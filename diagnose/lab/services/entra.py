"""Entra ID: OIDC discovery, JWKS and the v2 client-credentials token endpoint."""

from __future__ import annotations

import hmac
import time
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from diagnose.lab import oidc
from diagnose.lab.jwts import normalize_audience
from diagnose.lab.services.common import Context
from diagnose.lab.transport import Request, Response, Service
from diagnose.lab.world import Principal

_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class Entra(Service):
    name = "entra"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx.state)
        self.ctx = ctx
        t = r"/(?P<tenant>[^/]+)"
        self.route("GET", t + r"/v2\.0/\.well-known/openid-configuration", self.discovery)
        self.route("GET", t + r"/\.well-known/openid-configuration", self.discovery)
        self.route("GET", t + r"/discovery/v2\.0/keys", self.keys)
        self.route("GET", r"/common/discovery/instance", self.instance)
        self.route("POST", t + r"/oauth2/v2\.0/token", self.token)
        self.route("POST", t + r"/oauth2/token", self.token)
        # workload identity federation: the lab's CI issuer and the credentials that trust it
        self.federation = oidc.lab_federation(ctx.urls["entra"], ctx.state.world.diagnoser.app_id)
        issuer = oidc.ISSUER_PATH.replace("/", r"\/")
        self.route("GET", issuer + r"/\.well-known/openid-configuration", self.issuer_discovery)
        self.route("GET", issuer + r"/\.well-known/jwks", self.issuer_keys)

    # -- answers ---------------------------------------------------------------------------
    def error(self, status: int, code: str, message: str, **extra: object) -> Response:
        """Entra's error body; `code` is the OAuth error, `message` starts with AADSTSnnnn."""
        number = int(message.split(":")[0][6:]) if message.startswith("AADSTS") else 0
        now = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        return Response(
            status,
            {
                "error": code,
                "error_description": f"{message} Trace ID: {trace} Correlation ID: {corr} Timestamp: {now}",
                "error_codes": [number] if number else [],
                "timestamp": now,
                "trace_id": trace,
                "correlation_id": corr,
                "error_uri": f"{self.ctx.urls['entra']}/error?code={number}",
            },
        )

    def not_found(self, req: Request) -> Response:
        return self.error(
            404,
            "invalid_request",
            f"AADSTS900561: The endpoint only accepts POST, OPTIONS requests. Received a {req.method} request.",
        )

    def _bad_tenant(self, tenant: str) -> Response | None:
        if tenant.lower() in (self.state.world.tenant_id, "organizations", "common"):
            return None
        return self.error(
            400,
            "invalid_tenant",
            f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct "
            "tenant ID and are signing into the correct cloud. Check with your subscription "
            "administrator, this may happen if there are no active subscriptions for the tenant.",
        )

    def discovery(self, req: Request, tenant: str) -> Response:
        if bad := self._bad_tenant(tenant):
            return bad
        tid = self.state.world.tenant_id
        base = f"{self.ctx.urls['entra']}/{tid}"
        return Response(
            200,
            {
                "issuer": self.ctx.issuer(tid),
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "token id_token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "tenant_region_scope": "EU",
                "cloud_instance_name": "diagnose.lab",
            },
        )

    def issuer_discovery(self, req: Request) -> Response:
        return Response(200, next(iter(self.federation.issuers.values())).discovery())

    def issuer_keys(self, req: Request) -> Response:
        return Response(200, next(iter(self.federation.issuers.values())).jwks())

    def keys(self, req: Request, tenant: str) -> Response:
        return Response(200, self.ctx.signer.jwks())

    def instance(self, req: Request) -> Response:
        host = self.ctx.urls["entra"].split("://", 1)[1]
        return Response(
            200,
            {
                "tenant_discovery_endpoint": f"{self.ctx.urls['entra']}/{{tenant}}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [
                    {"preferred_network": host, "preferred_cache": host, "aliases": [host]}
                ],
            },
        )

    # -- the token endpoint ----------------------------------------------------------------------
    def token(self, req: Request, tenant: str) -> Response:
        if bad := self._bad_tenant(tenant):
            return bad
        form = req.form()
        world = self.state.world
        client_id = form.get("client_id", "")
        if client_id:
            req.caller_app_id = client_id
        if form.get("grant_type") != "client_credentials":
            return self.error(
                400,
                "unsupported_grant_type",
                "AADSTS70003: The app requested an unsupported grant type "
                f"'{form.get('grant_type', '')}'.",
            )
        if not client_id:
            return self.error(
                400,
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
            )
        principal = world.principal_by_app(client_id)
        if principal is None or not (principal.secrets or principal.certificate_der):
            return self.error(
                400,
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{client_id}' was not found in the "
                f"directory '{world.tenant_id}'. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in the "
                "tenant. You may have sent your authentication request to the wrong tenant.",
            )
        if not principal.enabled or principal.disabled_by_microsoft:
            return self.error(
                400,
                "unauthorized_client",
                f"AADSTS7000112: Application '{principal.app_id}'({principal.display_name}) is disabled.",
            )
        refused = self._check_credential(req, form, principal)
        if refused is not None:
            return refused
        # v2 takes `scope`; the v1 endpoint (`/oauth2/token`) takes `resource`.
        scope = form.get("scope") or (
            form["resource"] + "/.default" if form.get("resource") else ""
        )
        if not scope:
            return self.error(
                400,
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: 'scope'.",
            )
        resource = scope.split()[0]
        service = self.ctx.service_for_audience(resource)
        if service is None or not resource.rstrip("/").endswith(".default"):
            return self.error(
                400,
                "invalid_resource",
                f"AADSTS500011: The resource principal named {normalize_audience(resource)} was "
                f"not found in the tenant named {world.tenant_id}. This can happen if the "
                "application has not been installed by the administrator of the tenant or "
                "consented to by any user in the tenant. You might have sent your authentication "
                "request to the wrong tenant.",
            )
        roles = principal.app_roles if service == "graph" else []
        token, lifetime = self.ctx.signer.entra_token(
            self.ctx.issuer(world.tenant_id),
            world.tenant_id,
            normalize_audience(resource),
            principal.app_id,
            principal.object_id,
            roles,
        )
        return Response(
            200,
            {
                "token_type": "Bearer",
                "expires_in": lifetime,
                "ext_expires_in": lifetime,
                "access_token": token,
            },
            {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"},
        )

    def _check_credential(
        self, req: Request, form: dict[str, str], principal: Principal
    ) -> Response | None:
        secret = form.get("client_secret")
        if secret is not None:
            for s in principal.secrets:
                if hmac.compare_digest(s.value.encode(), secret.encode()):
                    if s.expires <= time.time():
                        return self.error(
                            401,
                            "invalid_client",
                            f"AADSTS7000222: The provided client secret keys for app "
                            f"'{principal.app_id}' are expired. Visit the Azure portal to create "
                            "new keys for your app: https://aka.ms/NewClientSecret, or consider "
                            "using certificate credentials for added security: https://aka.ms/certCreds.",
                        )
                    return None
            return self._invalid_secret(principal)
        assertion = form.get("client_assertion")
        if assertion is not None and form.get("client_assertion_type") == _ASSERTION_TYPE:
            if oidc.Federation.is_external(assertion, principal.app_id):
                refused = self.federation.refusal(assertion, principal.app_id)
                return None if refused is None else self.error(*refused)
            if self._assertion_valid(assertion, principal, req):
                return None
            return self.error(
                401,
                "invalid_client",
                "AADSTS700027: Client assertion failed signature validation.",
            )
        return self.error(
            401,
            "invalid_client",
            "AADSTS7000218: The request body must contain the following parameter: "
            "'client_assertion' or 'client_secret'.",
        )

    def _invalid_secret(self, principal: Principal) -> Response:
        return self.error(
            401,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the "
            "request is the client secret value, not the client secret ID, for a secret added to "
            f"app '{principal.app_id}'.",
        )

    def _assertion_valid(self, assertion: str, principal: Principal, req: Request) -> bool:
        if principal.certificate_der is None:
            return False
        cert = x509.load_der_x509_certificate(principal.certificate_der)
        public_key = cert.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):  # RS256 and PS256 sign with RSA only
            return False
        try:
            claims = jwt.decode(
                assertion,
                public_key,
                algorithms=["RS256", "PS256"],
                options={"verify_aud": False, "require": ["exp"]},
            )
        except jwt.PyJWTError:
            return False
        header = jwt.get_unverified_header(assertion)
        sha1 = jwt.utils.base64url_encode(cert.fingerprint(hashes.SHA1())).decode()  # noqa: S303
        sha256 = jwt.utils.base64url_encode(cert.fingerprint(hashes.SHA256())).decode()
        thumb_ok = (
            str(header.get("x5t", "")).rstrip("=") == sha1
            or str(header.get("x5t#S256", "")).rstrip("=") == sha256
        )
        return (
            thumb_ok
            and claims.get("iss") == principal.app_id
            and claims.get("sub") == principal.app_id
            and "/oauth2/" in str(claims.get("aud", ""))
        )

    def is_write(self, req: Request) -> bool:
        return False
