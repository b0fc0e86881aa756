"""Microsoft Graph: service principals, applications (their dated credentials), deleted items and
restore, directoryObjects/getByIds."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from diagnose.lab.roles import GRAPH_READ, GRAPH_WRITE
from diagnose.lab.services.common import AzureService, Context
from diagnose.lab.transport import Denied, Request, Response
from diagnose.lab.world import Principal, World, stable_id

_EQ = re.compile(r"^\s*(\w+)\s+eq\s+'([^']*)'\s*$", re.I)
_ANY = re.compile(
    r"^\s*servicePrincipalNames/any\(\s*(\w+)\s*:\s*\1\s+eq\s+'([^']*)'\s*\)\s*$", re.I
)
_FILTER_FIELDS = {"appid": "app_id", "id": "object_id", "displayname": "display_name"}
_V = r"/(?:v1\.0|beta)"
_PROPERTIES = Path(__file__).with_name("graph_properties.json")
_APPLICATION = Path(__file__).with_name("graph_application.json")


@cache
def sp_properties() -> dict[str, str]:
    """servicePrincipal's v1.0 properties (name -> EDM type), as Microsoft Graph publishes them
    (graph_properties.json: msgraph-metadata's v1.0 CSDL, source and commit in the file)."""
    return dict(json.loads(_PROPERTIES.read_text(encoding="utf-8"))["properties"])


def application_types() -> dict[str, Any]:
    """application's v1.0 properties and its credentials' complex types, as Microsoft Graph
    publishes them (graph_application.json, written by scripts/gen_graph_types.py from
    msgraph-metadata's v1.0 CSDL; source and commit in the file)."""
    return dict(json.loads(_APPLICATION.read_text(encoding="utf-8")))


class Graph(AzureService):
    name = "graph"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        sp = _V + r"/servicePrincipals"
        self.route("GET", sp, self.list_sps, re.I)
        self.route("GET", sp + r"\(appId='(?P<app_id>[^']*)'\)", self.get_by_app, re.I)
        self.route("PATCH", sp + r"\(appId='(?P<app_id>[^']*)'\)", self.patch_by_app, re.I)
        self.route("GET", sp + r"/(?P<oid>[^/()]+)", self.get_sp, re.I)
        self.route("PATCH", sp + r"/(?P<oid>[^/()]+)", self.patch_sp, re.I)
        deleted = _V + r"/directory/deletedItems"
        self.route("GET", deleted + r"/microsoft\.graph\.servicePrincipal", self.list_deleted, re.I)
        self.route("GET", deleted + r"/(?P<oid>[^/]+)", self.get_deleted, re.I)
        self.route("POST", deleted + r"/(?P<oid>[^/]+)/restore", self.restore, re.I)
        self.route("POST", _V + r"/directoryObjects/getByIds", self.get_by_ids, re.I)
        app = _V + r"/applications"
        self.route("GET", app + r"\(appId='(?P<app_id>[^']*)'\)", self.get_app_by_app_id, re.I)
        self.route("GET", app + r"/(?P<oid>[^/()]+)", self.get_app, re.I)
        self.started = time.time()  # when the lab's credentials were "added" (lab's choice)

    # -- shapes --------------------------------------------------------------------------------
    def error(self, status: int, code: str, message: str, **extra: object) -> Response:
        now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        return Response(
            status,
            {
                "error": {
                    "code": code,
                    "message": message,
                    "innerError": {
                        "date": now,
                        "request-id": str(uuid.uuid4()),
                        "client-request-id": str(uuid.uuid4()),
                    },
                    **extra,
                }
            },
        )

    def not_found(self, req: Request) -> Response:
        return self.error(
            400,
            "BadRequest",
            f"Resource not found for the segment '{req.path.rstrip('/').rsplit('/', 1)[-1]}'.",
        )

    def unauthenticated(self, req: Request, reason: str) -> Response:
        if reason == "missing":
            return self.error(401, "InvalidAuthenticationToken", "Access token is empty.")
        if reason.startswith("audience"):
            return self.error(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            )
        return self.error(401, "InvalidAuthenticationToken", "Access token validation failure.")

    def _resource_missing(self, ident: str) -> Response:
        return self.error(
            404,
            "Request_ResourceNotFound",
            f"Resource '{ident}' does not exist or one of its queried reference-property objects are not present.",
        )

    def _require(self, req: Request, write: bool = False) -> dict[str, Any]:
        claims = self.authenticate(req)
        roles = set(claims.get("roles") or [])
        needed = {GRAPH_WRITE} if write else {GRAPH_READ, GRAPH_WRITE, "Directory.Read.All"}
        if not roles & needed:
            raise Denied(
                self.error(
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                )
            )
        return claims

    def sp_json(self, p: Principal, context: bool = True, deleted: bool = False) -> dict[str, Any]:
        base = self.ctx.urls["graph"]
        body: dict[str, Any] = {}
        if context:
            body["@odata.context"] = f"{base}/v1.0/$metadata#servicePrincipals/$entity"
        body.update(
            {
                "@odata.type": "#microsoft.graph.servicePrincipal",
                "id": p.object_id,
                "deletedDateTime": _iso(p.deleted_at) if deleted and p.deleted_at else None,
                "accountEnabled": p.enabled,
                "appDisplayName": p.display_name,
                "appId": p.app_id,
                "appOwnerOrganizationId": p.owner_tenant
                or (None if p.type == "ManagedIdentity" else self.world.tenant_id),
                "alternativeNames": _alternative_names(self.world, p),
                "disabledByMicrosoftStatus": p.disabled_by_microsoft,
                "displayName": p.display_name,
                "servicePrincipalNames": [p.app_id]
                + (
                    [f"https://identity.azure.net/{p.object_id}"]
                    if p.type == "ManagedIdentity"
                    else []
                ),
                "servicePrincipalType": p.type,
                "signInAudience": "AzureADMultipleOrgs" if p.owner_tenant else "AzureADMyOrg",
                "tags": [],
                "appRoles": [],
                "keyCredentials": [],
                "passwordCredentials": [],
            }
        )
        return body

    def _collection(self, items: list[dict[str, Any]], what: str) -> Response:
        return Response(
            200,
            {"@odata.context": f"{self.ctx.urls['graph']}/v1.0/$metadata#{what}", "value": items},
        )

    def _selected(
        self, req: Request, entity: str = "servicePrincipal"
    ) -> list[str] | Response | None:
        """The properties `$select` names (Graph's spelling), None without `$select`, or Graph's
        400 for a name the entity does not have in v1.0."""
        raw = req.query.get("$select")
        if raw is None:
            return None
        published = (
            sp_properties() if entity == "servicePrincipal" else application_types()["properties"]
        )
        known = {name.lower(): name for name in published}
        names = []
        for name in (n.strip() for n in raw.split(",")):
            if name.lower() not in known:
                return self.error(
                    400,
                    "BadRequest",
                    f"Could not find a property named '{name}' on type 'microsoft.graph.{entity}'.",
                )
            names.append(known[name.lower()])
        return names

    def _answer(
        self, req: Request, body: dict[str, Any], entity: str = "servicePrincipal"
    ) -> Response:
        """One service principal (or `entity`), as `$select` asks for it."""
        chosen = self._selected(req, entity)
        if isinstance(chosen, Response):
            return chosen
        return Response(200, _only(body, chosen))

    def _answer_all(self, req: Request, items: list[dict[str, Any]], what: str) -> Response:
        chosen = self._selected(req)
        if isinstance(chosen, Response):
            return chosen
        return self._collection([_only(i, chosen) for i in items], what)

    # -- service principals -----------------------------------------------------------------------
    def _live(self) -> list[Principal]:
        return [p for p in self.world.principals.values() if not p.deleted]

    def _filtered(self, req: Request, principals: list[Principal]) -> list[Principal] | Response:
        expr = req.query.get("$filter")
        if not expr:
            return principals
        if m := _ANY.match(expr):
            value = m.group(2).lower()
            return [
                p
                for p in principals
                if value in (n.lower() for n in self.sp_json(p)["servicePrincipalNames"])
            ]
        if m := _EQ.match(expr):
            attr = _FILTER_FIELDS.get(m.group(1).lower())
            if attr is None:
                return self.error(
                    400,
                    "Request_UnsupportedQuery",
                    f"Unsupported or invalid query filter clause specified for property '{m.group(1)}' of resource 'ServicePrincipal'.",
                )
            return [p for p in principals if str(getattr(p, attr)).lower() == m.group(2).lower()]
        return self.error(400, "BadRequest", f"Invalid filter clause: {expr}")

    def list_sps(self, req: Request) -> Response:
        self._require(req)
        with self.state.lock:
            found = self._filtered(req, self._live())
            if isinstance(found, Response):
                return found
            return self._answer_all(
                req, [self.sp_json(p, context=False) for p in found], "servicePrincipals"
            )

    def _find(self, oid: str | None = None, app_id: str | None = None) -> Principal | None:
        for p in self._live():
            if (oid and p.object_id.lower() == oid.lower()) or (
                app_id and p.app_id.lower() == app_id.lower()
            ):
                return p
        return None

    def get_sp(self, req: Request, oid: str) -> Response:
        self._require(req)
        p = self._find(oid=oid)
        return self._answer(req, self.sp_json(p)) if p else self._resource_missing(oid)

    def get_by_app(self, req: Request, app_id: str) -> Response:
        self._require(req)
        p = self._find(app_id=app_id)
        return self._answer(req, self.sp_json(p)) if p else self._resource_missing(app_id)

    def patch_sp(self, req: Request, oid: str) -> Response:
        return self._patch(req, self._find(oid=oid), oid)

    def patch_by_app(self, req: Request, app_id: str) -> Response:
        return self._patch(req, self._find(app_id=app_id), app_id)

    def _patch(self, req: Request, p: Principal | None, ident: str) -> Response:
        self._require(req, write=True)
        if p is None:
            return self._resource_missing(ident)
        if p.managed:
            return self._managed_refusal()
        body = req.json()
        if not isinstance(body, dict):
            return self.error(400, "BadRequest", "Empty Payload. JSON content expected.")
        if "accountEnabled" in body and not isinstance(body["accountEnabled"], bool):
            return self.error(
                400,
                "Request_BadRequest",
                "Invalid value specified for property 'accountEnabled' of resource 'ServicePrincipal'.",
            )
        unknown = set(body) - {"accountEnabled", "displayName", "tags", "notes"}
        if unknown:
            return self.error(
                400,
                "Request_BadRequest",
                f"Property '{sorted(unknown)[0]}' is read-only and cannot be set.",
            )
        with self.state.write():
            if "accountEnabled" in body:
                p.enabled = body["accountEnabled"]
            if "displayName" in body:
                p.display_name = str(body["displayName"])
        return Response(204)

    def _managed_refusal(self) -> Response:
        """A write to a managed identity's service principal. Its Azure resource manages it, not
        Graph ("Managed identities service principals can't be deleted in the Enterprise apps
        blade. You need to go to the Azure resource to manage it", quoted in MicrosoftDocs/azure-docs
        issue 68632); Graph's answer to a PATCH is not published. Lab's choice: the 403
        `Authorization_RequestDenied` real tenants got for another write to such a principal
        (adding an owner, even as Global Administrator: MicrosoftDocs/azure-docs issue 77020)."""
        return self.error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )

    # -- deleted items -----------------------------------------------------------------------------
    def _deleted(self) -> list[Principal]:
        """The deleted principals that Graph keeps in deleted items (never a managed identity's)."""
        return [p for p in self.world.principals.values() if p.restorable]

    def list_deleted(self, req: Request) -> Response:
        self._require(req)
        with self.state.lock:
            found = self._filtered(req, self._deleted())
            if isinstance(found, Response):
                return found
            return self._answer_all(
                req,
                [self.sp_json(p, context=False, deleted=True) for p in found],
                "directory/deletedItems/microsoft.graph.servicePrincipal",
            )

    def _find_deleted(self, oid: str) -> Principal | None:
        return next((p for p in self._deleted() if p.object_id.lower() == oid.lower()), None)

    def get_deleted(self, req: Request, oid: str) -> Response:
        self._require(req)
        p = self._find_deleted(oid)
        if p is None:
            return self._resource_missing(oid)
        return self._answer(req, self.sp_json(p, deleted=True))

    def restore(self, req: Request, oid: str) -> Response:
        self._require(req, write=True)
        p = self._find_deleted(oid)
        if p is None:
            return self._resource_missing(oid)
        with self.state.write():
            p.deleted_at = None
        return Response(200, self.sp_json(p))

    def get_by_ids(self, req: Request) -> Response:
        self._require(req)
        body = req.json()
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return self.error(
                400,
                "Request_BadRequest",
                "Invalid value specified for property 'ids' of resource 'DirectoryObject'.",
            )
        found = [self.sp_json(p, context=False) for i in ids if (p := self._find(oid=i))]
        return self._collection(found, "directoryObjects")

    # -- applications --------------------------------------------------------------------------------
    def _applications(self) -> list[Principal]:
        """The application objects registered in the lab's tenant: every principal that is neither a
        managed identity (no application object) nor an application registered in another tenant
        (its object lives in its home tenant). An application outlives its service principal's
        deletion (lab's choice: the principal is what the scenarios delete)."""
        home = self.world.tenant_id
        return [
            p
            for p in self.world.principals.values()
            if not p.managed and (p.owner_tenant in (None, home))
        ]

    def app_json(self, p: Principal) -> dict[str, Any]:
        """An application in Graph v1.0's shape (application resource type), with its dated
        credentials: passwordCredentials (hint: the secret's first three characters, secretText
        null on reads) and keyCredentials (customKeyIdentifier: the certificate's SHA-1 thumbprint,
        base64; key null unless selected), as learn.microsoft.com/graph/api/resources/
        passwordcredential and .../keycredential publish them."""
        return {
            "@odata.context": f"{self.ctx.urls['graph']}/v1.0/$metadata#applications/$entity",
            "id": application_object_id(p),
            "deletedDateTime": None,
            "appId": p.app_id,
            "displayName": p.display_name,
            "createdDateTime": _iso(self.started),
            "signInAudience": "AzureADMultipleOrgs" if p.owner_tenant else "AzureADMyOrg",
            "disabledByMicrosoftStatus": p.disabled_by_microsoft,
            "passwordCredentials": [
                {
                    "customKeyIdentifier": None,
                    "displayName": f"{p.display_name} secret {n + 1}",
                    "endDateTime": _iso(s.expires),
                    "hint": s.value[:3],
                    "keyId": stable_id(f"password:{p.app_id}:{n}"),
                    "secretText": None,
                    "startDateTime": _iso(min(self.started, s.expires)),
                }
                for n, s in enumerate(p.secrets)
            ],
            "keyCredentials": [_key_credential(p.app_id, p.certificate_der)]
            if p.certificate_der
            else [],
        }

    def _answer_app(self, req: Request, p: Principal | None, ident: str) -> Response:
        self._require(req)
        if p is None:
            return self._resource_missing(ident)
        return self._answer(req, self.app_json(p), "application")

    def get_app_by_app_id(self, req: Request, app_id: str) -> Response:
        with self.state.lock:
            found = next(
                (p for p in self._applications() if p.app_id.lower() == app_id.lower()), None
            )
            return self._answer_app(req, found, app_id)

    def get_app(self, req: Request, oid: str) -> Response:
        with self.state.lock:
            found = next(
                (p for p in self._applications() if application_object_id(p) == oid.lower()), None
            )
            return self._answer_app(req, found, oid)

    def is_write(self, req: Request) -> bool:
        return req.method == "PATCH" or (
            req.method == "POST" and req.path.rstrip("/").lower().endswith("/restore")
        )


def _only(body: dict[str, Any], chosen: list[str] | None) -> dict[str, Any]:
    """`body` with only the chosen properties (and `@odata.context`), as Graph answers `$select`."""
    if chosen is None:
        return body
    kept = {k: body[k] for k in ("@odata.context",) if k in body}
    kept.update({name: body.get(name) for name in chosen})
    return kept


def application_object_id(p: Principal) -> str:
    """The application object's id: not its service principal's (lab's choice: derived)."""
    return stable_id(f"application:{p.app_id}")


def _key_credential(app_id: str, der: bytes) -> dict[str, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_der_x509_certificate(der)
    return {
        "customKeyIdentifier": base64.b64encode(cert.fingerprint(hashes.SHA1())).decode(),  # noqa: S303 - a thumbprint, as Graph names it
        "displayName": cert.subject.rfc4514_string(),
        "endDateTime": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "key": None,
        "keyId": stable_id(f"key:{app_id}"),
        "startDateTime": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
    }


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _alternative_names(world: World, p: Principal) -> list[str]:
    """A managed identity's `alternativeNames` ("full resource ids for managed identities", Graph's
    servicePrincipal reference): `isExplicit=True` and the user-assigned identity's ARM id, or
    `isExplicit=False` and the ARM id of the resource whose system-assigned identity it is (a real
    answer: databrickslabs/ucx pull request 868). None for an application's principal."""
    if p.type != "ManagedIdentity":
        return []
    if p.system_assigned_to:
        return ["isExplicit=False", p.system_assigned_to]
    return ["isExplicit=True", _uai_alias(world, p)]


def _uai_alias(world: World, p: Principal) -> str:
    for ident in world.identities:
        if ident.principal_id == p.object_id:
            return ident.id
    return ""
