"""Azure Resource Manager: cloud metadata, subscriptions, RBAC, the vault, the key, Cosmos DB, identities.

Paths are case-insensitive as in ARM. An api-version is required, and for the resource types the
lab serves only those the REST API specifications publish are accepted (api_versions.py).
Reads need an RBAC action at the scope or above (Reader's `*/read` covers them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from diagnose.lab.derived import in_scope, rbac_allows
from diagnose.lab.roles import COSMOS_ROLE_DEFINITIONS
from diagnose.lab.services import api_versions
from diagnose.lab.services import arm_shapes as shapes
from diagnose.lab.services.common import AzureService, Context
from diagnose.lab.transport import Denied, Request, Response
from diagnose.lab.world import (
    AccessPolicy,
    RoleAssignment,
    SqlRoleAssignment,
    World,
    create_user_assigned_identity,
    set_identity_type,
)

T = TypeVar("T")
JsonObject = dict[str, Any]

_AUTHZ = r"(?P<scope>.*?)/providers/Microsoft\.Authorization/"
_GUID = r"(?P<guid>[0-9a-fA-F-]{36})"
_ASSIGNED = re.compile(r"assignedTo\('([^']*)'\)", re.I)
_PRINCIPAL = re.compile(r"principalId\s+eq\s+'([^']*)'", re.I)
_ROLE_NAME = re.compile(r"roleName\s+eq\s+'([^']*)'", re.I)
_COSMOS = "Microsoft.DocumentDB/databaseAccounts"
_UAI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
_UAI = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/[^/]+$",
    re.I,
)
_VAULT = r"(?P<vault>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.KeyVault/vaults/[^/]+)"


class Arm(AzureService):
    name = "arm"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        i = re.I
        self.route("GET", r"/metadata/endpoints", self.metadata, i)
        self.route("GET", r"/subscriptions", self.subscriptions, i)
        self.route("GET", r"/tenants", self.tenants, i)
        self.route("GET", _AUTHZ + r"roleAssignments", self.list_assignments, i)
        self.route("GET", _AUTHZ + r"roleAssignments/" + _GUID, self.get_assignment, i)
        self.route("PUT", _AUTHZ + r"roleAssignments/" + _GUID, self.put_assignment, i)
        self.route("DELETE", _AUTHZ + r"roleAssignments/" + _GUID, self.delete_assignment, i)
        self.route("GET", _AUTHZ + r"roleDefinitions", self.list_definitions, i)
        self.route("GET", _AUTHZ + r"roleDefinitions/" + _GUID, self.get_definition, i)
        self.route(
            "PUT", _VAULT + r"/accessPolicies/(?P<kind>add|replace|remove)", self.put_policies, i
        )
        self.route("GET", r"(?P<rid>/subscriptions/.+)", self.get_resource, i)
        self.route("PATCH", r"(?P<rid>/subscriptions/.+)", self.patch_resource, i)
        self.route("PUT", r"(?P<rid>/subscriptions/.+)", self.put_resource, i)
        self.route("DELETE", r"(?P<rid>/subscriptions/.+)", self.delete_resource, i)

    # -- error shapes -----------------------------------------------------------------------------
    def unauthenticated(self, req: Request, reason: str) -> Response:
        if reason == "missing":
            return self.error(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
            )
        if reason.startswith("audience:"):
            aud = reason.split(":", 1)[1]
            allowed = "','".join(sorted(self.ctx.audiences("arm")))
            return self.error(
                401,
                "InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences '{allowed}'.",
            )
        if reason == "tenant":
            return self.error(
                401,
                "InvalidAuthenticationTokenTenant",
                "The access token is from the wrong issuer. It must match the tenant associated with this subscription.",
            )
        return self.error(401, "InvalidAuthenticationToken", "The access token is invalid.")

    def not_found(self, req: Request) -> Response:
        return self.error(
            404,
            "InvalidResourceType",
            f"The resource type could not be found in the namespace for api version '{req.query.get('api-version', '')}'.",
        )

    def _authorize(self, req: Request, action: str, scope: str) -> JsonObject:
        claims = self.authenticate(req)
        oid = str(claims.get("oid"))
        if not rbac_allows(self.world, oid, scope, action, data=False):
            raise Denied(
                self.error(
                    403,
                    "AuthorizationFailed",
                    f"The client '{claims.get('appid')}' with object id '{oid}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
                )
            )
        return claims

    def _need_api_version(self, req: Request) -> None:
        """ARM's 400 for a missing api-version, or one the specification does not publish for the
        resource type of the path."""
        version = req.query.get("api-version")
        if not version:
            raise Denied(self.error(400, *api_versions.MISSING))
        if refused := api_versions.refusal(req.path, version, self.world.location):
            self.authenticate(req)  # lab's choice: a bad token is refused (401) before the version
            raise Denied(self.error(400, *refused))

    # -- metadata, subscriptions ---------------------------------------------------------------------
    def metadata(self, req: Request) -> Response:
        u = self.ctx.urls
        vault_host = u["vault"].split("://", 1)[1]
        return Response(
            200,
            {
                "name": "DiagnoseLab",
                "galleryEndpoint": u["arm"] + "/",
                "graph": u["graph"] + "/",
                "graphAudience": u["graph"],
                "microsoftGraphResourceId": u["graph"] + "/",
                "portal": u["arm"] + "/",
                "resourceManager": u["arm"] + "/",
                "authentication": {
                    "loginEndpoint": u["entra"] + "/",
                    "audiences": [u["arm"] + "/", "https://management.azure.com/"],
                    "tenant": "common",
                    "identityProvider": "AAD",
                },
                "media": u["arm"] + "/",
                "sqlManagement": u["arm"] + "/",
                "batch": u["arm"] + "/",
                "vmImageAliasDoc": u["arm"] + "/aliases.json",
                "suffixes": {
                    "keyVaultDns": vault_host,
                    "storage": "core.windows.net",
                    "acrLoginServer": "azurecr.io",
                    "sqlServerHostname": "database.windows.net",
                },
            },
        )

    def subscriptions(self, req: Request) -> Response:
        self._need_api_version(req)
        claims = self.authenticate(req)
        oid = claims.get("oid")
        w = self.world
        visible = any(
            a.principal_id == oid and in_scope(w.subscription_scope, a.scope)
            for a in w.role_assignments
        )
        return Response(
            200,
            {
                "value": [shapes.subscription(self.world)] if visible else [],
                "count": {"type": "Total", "value": int(visible)},
            },
        )

    def tenants(self, req: Request) -> Response:
        self._need_api_version(req)
        self.authenticate(req)
        tid = self.world.tenant_id
        return Response(
            200,
            {
                "value": [
                    {
                        "id": f"/tenants/{tid}",
                        "tenantId": tid,
                        "tenantCategory": "Home",
                        "displayName": "Contoso",
                        "defaultDomain": "contoso.example",
                    }
                ]
            },
        )

    # -- role definitions ---------------------------------------------------------------------------
    def _scope_exists(self, scope: str) -> Response | None:
        if scope in ("", "/"):
            return None
        return self._lookup(scope)[1]

    def list_definitions(self, req: Request, scope: str) -> Response:
        self._need_api_version(req)
        if scope not in ("", "/"):
            self._authorize(req, "Microsoft.Authorization/roleDefinitions/read", scope)
        else:
            self.authenticate(req)
        if missing := self._scope_exists(scope):
            return missing
        defs = list(self.world.role_definitions)
        expr = req.query.get("$filter", "")
        if m := _ROLE_NAME.search(expr):
            defs = [
                g for g in defs if self.world.role_definitions[g].name.lower() == m.group(1).lower()
            ]
        return Response(200, {"value": [shapes.definition(self.world, g) for g in defs]})

    def get_definition(self, req: Request, scope: str, guid: str) -> Response:
        self._need_api_version(req)
        self.authenticate(req)
        if guid.lower() not in self.world.role_definitions:
            return self.error(
                404,
                "RoleDefinitionDoesNotExist",
                "The specified role definition with ID '" + guid + "' does not exist.",
            )
        return Response(200, shapes.definition(self.world, guid.lower()))

    # -- role assignments ------------------------------------------------------------------------------
    def list_assignments(self, req: Request, scope: str) -> Response:
        self._need_api_version(req)
        self._authorize(req, "Microsoft.Authorization/roleAssignments/read", scope)
        if missing := self._scope_exists(scope):
            return missing
        expr = req.query.get("$filter", "")
        at_scope = "atscope()" in expr.lower().replace(" ", "")
        who = _ASSIGNED.search(expr) or _PRINCIPAL.search(expr)
        out = []
        with self.state.lock:
            for a in self.world.role_assignments:
                above = in_scope(a.scope, scope, self.world.management_groups)
                below = in_scope(scope, a.scope)
                if not (above or (below and not at_scope)):
                    continue
                if who and a.principal_id.lower() != who.group(1).lower():
                    continue
                out.append(shapes.assignment(self.world, a))
        return Response(200, {"value": out})

    def _find_assignment(self, guid: str) -> RoleAssignment | None:
        return next(
            (a for a in self.world.role_assignments if a.guid.lower() == guid.lower()), None
        )

    def get_assignment(self, req: Request, scope: str, guid: str) -> Response:
        self._need_api_version(req)
        self._authorize(req, "Microsoft.Authorization/roleAssignments/read", scope or "/")
        a = self._find_assignment(guid)
        if a is None:
            return self.error(
                404, "RoleAssignmentNotFound", f"The role assignment '{guid}' is not found."
            )
        return Response(200, shapes.assignment(self.world, a))

    def put_assignment(self, req: Request, scope: str, guid: str) -> Response:
        self._need_api_version(req)
        self._authorize(req, "Microsoft.Authorization/roleAssignments/write", scope)
        if missing := self._scope_exists(scope):
            return missing
        body = req.json()
        props = body.get("properties") if isinstance(body, dict) else None
        if (
            not isinstance(props, dict)
            or not props.get("roleDefinitionId")
            or not props.get("principalId")
        ):
            return self.error(
                400,
                "InvalidRoleAssignmentRequest",
                "The request to create role assignment is missing roleDefinitionId or principalId.",
            )
        role = str(props["roleDefinitionId"]).rstrip("/").rsplit("/", 1)[-1].lower()
        if role not in self.world.role_definitions:
            return self.error(
                400,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{role}' does not exist.",
            )
        principal = self.world.principal(str(props["principalId"]))
        if principal is None or principal.deleted:
            return self.error(
                400,
                "PrincipalNotFound",
                f"Principal {props['principalId']} does not exist in the directory {self.world.tenant_id}. Check that you have the correct principal ID.",
            )
        for a in self.world.role_assignments:
            if (
                a.principal_id == principal.object_id
                and a.role == role
                and a.scope.lower() == scope.lower()
            ):
                return self.error(
                    409, "RoleAssignmentExists", "The role assignment already exists."
                )
        new = RoleAssignment(
            guid.lower(),
            scope,
            role,
            principal.object_id,
            str(props.get("principalType") or "ServicePrincipal"),
        )
        with self.state.write() as world:
            world.role_assignments.append(new)
        return Response(201, shapes.assignment(self.world, new))

    def delete_assignment(self, req: Request, scope: str, guid: str) -> Response:
        self._need_api_version(req)
        self._authorize(req, "Microsoft.Authorization/roleAssignments/delete", scope)
        a = self._find_assignment(guid)
        if a is None:
            return Response(204)
        with self.state.write() as world:
            world.role_assignments.remove(a)
        return Response(200, shapes.assignment(self.world, a))

    # -- resources --------------------------------------------------------------------------------------
    def _resources(self) -> dict[str, tuple[str, Callable[[], JsonObject]]]:
        """Every readable resource of the world: lower-case id -> (read action, JSON builder)."""
        w = self.world
        res: dict[str, tuple[str, Callable[[], JsonObject]]] = {
            w.subscription_scope.lower(): (
                "Microsoft.Resources/subscriptions/read",
                lambda: shapes.subscription(self.world),
            ),
            w.group_scope.lower(): (
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                lambda: shapes.group(self.world),
            ),
        }
        if not w.vault.deleted:
            # Vaults - List By Subscription (how a key URI's vault is found by its vaultUri)
            res[f"{w.subscription_scope}/providers/Microsoft.KeyVault/vaults".lower()] = (
                "Microsoft.KeyVault/vaults/read",
                lambda: {"value": [shapes.vault(self.world)]},
            )
            res[w.vault.id.lower()] = (
                "Microsoft.KeyVault/vaults/read",
                lambda: shapes.vault(self.world),
            )
            res[(w.vault.id + "/keys").lower()] = (
                "Microsoft.KeyVault/vaults/keys/read",
                lambda: shapes.keys(self.world),
            )
            for name, key in w.vault.keys.items():
                if not key.deleted:
                    res[f"{w.vault.id}/keys/{name}".lower()] = (
                        "Microsoft.KeyVault/vaults/keys/read",
                        self._later(shapes.key, name),
                    )
        for ident in w.identities:
            res[ident.id.lower()] = (
                "Microsoft.ManagedIdentity/userAssignedIdentities/read",
                self._later(shapes.identity, ident),
            )
        c = w.cosmos
        if c.customer_readable:
            res[c.id.lower()] = (
                "Microsoft.DocumentDB/databaseAccounts/read",
                lambda: shapes.cosmos(self.world, self.state.observed().cmk_code),
            )
            res[(c.id + "/sqlRoleAssignments").lower()] = (
                "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/read",
                lambda: {
                    "value": [shapes.sql_assignment(self.world, a) for a in c.sql_role_assignments]
                },
            )
            res[(c.id + "/sqlRoleDefinitions").lower()] = (
                "Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions/read",
                lambda: {
                    "value": [shapes.sql_definition(self.world, g) for g in COSMOS_ROLE_DEFINITIONS]
                },
            )
            for a in c.sql_role_assignments:
                res[f"{c.id}/sqlRoleAssignments/{a.guid}".lower()] = (
                    "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/read",
                    self._later(shapes.sql_assignment, a),
                )
            for g in COSMOS_ROLE_DEFINITIONS:
                res[f"{c.id}/sqlRoleDefinitions/{g}".lower()] = (
                    "Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions/read",
                    self._later(shapes.sql_definition, g),
                )
        return res

    def _later(self, shape: Callable[[World, T], JsonObject], item: T) -> Callable[[], JsonObject]:
        """`shape(world, item)`, built when called, from the world of that moment."""
        return lambda: shape(self.world, item)

    def _lookup(
        self, rid: str
    ) -> tuple[tuple[str, Callable[[], JsonObject]] | None, Response | None]:
        """The resource at `rid`, or ARM's 404 for the first missing level."""
        rid = rid.rstrip("/")
        w = self.world
        with self.state.lock:
            found = self._resources().get(rid.lower())
        if found:
            return found, None
        parts = rid.split("/")
        if self._outside_subscription(rid):
            sub = parts[2] if len(parts) > 2 else ""
            return None, self.error(
                404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found."
            )
        if (
            len(parts) >= 5
            and parts[3].lower() == "resourcegroups"
            and parts[4].lower() != w.resource_group.lower()
        ):
            return None, self.error(
                404, "ResourceGroupNotFound", f"Resource group '{parts[4]}' could not be found."
            )
        m = re.search(r"/providers/([^/]+/[^/]+)/([^/]+)(.*)$", rid, re.I)
        if m is None:
            return None, self.error(
                404, "InvalidResourceType", "The resource type could not be found."
            )
        kind, name = m.group(1), m.group(2)
        group = parts[4] if len(parts) > 4 else ""
        return None, self.error(
            404,
            "ResourceNotFound",
            f"The Resource '{kind}/{name}' under resource group '{group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        )

    def _outside_subscription(self, rid: str) -> bool:
        """`rid` names no subscription, or another one than the lab's (ARM: SubscriptionNotFound)."""
        parts = rid.rstrip("/").split("/")
        return len(parts) < 3 or parts[2].lower() != self.world.subscription_id

    def get_resource(self, req: Request, rid: str) -> Response:
        self._need_api_version(req)
        found, missing = self._lookup(rid)
        if found is None:
            assert missing is not None  # _lookup gives one or the other
            if not self._outside_subscription(rid):
                self._authorize(req, "Microsoft.Resources/subscriptions/resources/read", rid)
            return missing
        action, build = found
        claims = self._authorize(req, action, rid)
        self._key_data_read(claims, rid)
        with self.state.lock:
            body = build()
        rtype = api_versions.resource_type(rid) or ""
        return Response(200, shapes.at_api_version(rtype, body, req.query["api-version"]))

    def _key_data_read(self, claims: JsonObject, rid: str) -> None:
        """ARM answers a key's GET with the caller's Key Vault data-plane right (keys/read): a
        denial is HTTP 400 with a top-level `ForbiddenByRbac` (real tenants' reports, e.g.
        pulumi/pulumi-azure-native and hashicorp/terraform-provider-azurerm issue threads quoted
        in docs/research/published-behaviour.md, section 2). RBAC vaults only; what ARM answers
        on an access-policy vault is not published (lab's choice: the control-plane read alone).
        """
        w = self.world
        keys = f"{w.vault.id}/keys/".lower()
        if not w.vault.rbac or not rid.lower().startswith(keys) or "/" in rid[len(keys) :]:
            return
        oid = str(claims.get("oid"))
        action = "Microsoft.KeyVault/vaults/keys/read"
        if rbac_allows(w, oid, rid, action, data=True):
            return
        message = (
            "[ForbiddenByRbac (Forbidden)] Caller is not authorized to perform action on resource.\r\n"
            "If role assignments, deny assignments or role definitions were changed recently, "
            "please observe propagation time.\r\n"
            f"Caller: name=KeyVault/ManagementPlane;appid={claims.get('appid')};oid={oid};"
            f"iss=https://sts.windows.net/{w.tenant_id}/\r\n"
            f"Action: '{action}'\r\nResource: '{rid.lower()}'\r\nAssignment: (not found)\r\n"
            f"Vault: {w.vault.name};location={w.vault.location}\r\n"
        )
        raise Denied(self.error(400, "ForbiddenByRbac", message))

    def _writable(self, req: Request, rid: str) -> tuple[str, Response | None]:
        self._need_api_version(req)
        found, missing = self._lookup(rid)
        rid_l = rid.rstrip("/").lower()
        if found is None:
            return rid_l, missing
        self._authorize(req, found[0].rsplit("/", 1)[0] + "/write", rid)
        return rid_l, None

    def patch_resource(self, req: Request, rid: str) -> Response:
        rid_l, missing = self._writable(req, rid)
        if missing:
            return missing
        body = req.json()
        props = body.get("properties") if isinstance(body, dict) else None
        if isinstance(body, dict) and props is None and isinstance(body.get("identity"), dict):
            props = {}  # DatabaseAccounts_Update of the identities alone (`az cosmosdb identity assign`)
        if not isinstance(props, dict):
            return self.error(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'properties' is required.",
            )
        w = self.world
        if rid_l == w.vault.id.lower():
            return self._patch_vault(props)
        if rid_l == w.cosmos.id.lower():
            return self._patch_cosmos(req, props, body.get("identity"))
        return self.error(
            405, "MethodNotAllowed", "The lab does not support PATCH on this resource type."
        )

    def _patch_vault(self, props: JsonObject) -> Response:
        """Vaults_Update (PATCH) and Vaults_CreateOrUpdate (PUT) of the existing vault: the
        properties the body names change; those it leaves out keep their value (lab's choice)."""
        v = self.world.vault
        if props.get("enablePurgeProtection") is False and v.purge_protection:
            return self.error(
                400,
                "BadRequest",
                'The property "enablePurgeProtection" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.',
            )
        if props.get("enableSoftDelete") is False and v.soft_delete:
            return self.error(
                400,
                "BadRequest",
                'The property "enableSoftDelete" cannot be set to false. Enabling the soft delete for a vault is an irreversible action.',
            )
        policies = props.get("accessPolicies")
        parsed = _policies(policies) if policies is not None else None
        if isinstance(parsed, str):
            return self.error(400, "BadRequest", parsed)
        with self.state.write():
            if props.get("enablePurgeProtection") is True:
                v.purge_protection = True
            if props.get("enableSoftDelete") is True:
                v.soft_delete = True
            if isinstance(props.get("enableRbacAuthorization"), bool):
                v.rbac = props["enableRbacAuthorization"]
            if parsed is not None:
                v.access_policies = parsed
            acls = props.get("networkAcls")
            if isinstance(acls, dict):
                v.default_action = str(acls.get("defaultAction", v.default_action))
                v.bypass = str(acls.get("bypass", v.bypass))
                if isinstance(acls.get("ipRules"), list):
                    v.ip_rules = [
                        str(r.get("value")) for r in acls["ipRules"] if isinstance(r, dict)
                    ]
        return Response(200, shapes.vault(self.world))

    def put_policies(self, req: Request, vault: str, kind: str) -> Response:
        """Vaults_UpdateAccessPolicy: `add` merges permissions into a principal's policy (or adds
        one), `replace` sets them, `remove` takes them away (the policy goes when none is left)."""
        self._need_api_version(req)
        found, missing = self._lookup(vault)
        if found is None or vault.rstrip("/").lower() != self.world.vault.id.lower():
            return missing or self.not_found(req)
        self._authorize(req, "Microsoft.KeyVault/vaults/accessPolicies/write", vault)
        body = req.json()
        props = body.get("properties") if isinstance(body, dict) else None
        given = _policies(props.get("accessPolicies") if isinstance(props, dict) else None)
        if isinstance(given, str):
            return self.error(400, "BadRequest", given)
        kind = kind.lower()
        with self.state.write() as world:
            current = world.vault.access_policies
            for policy in given:
                mine = next((p for p in current if p.object_id == policy.object_id), None)
                if mine is None:
                    if kind != "remove":
                        current.append(policy)
                    continue
                if kind == "add":
                    known = {k.lower() for k in mine.keys}
                    mine.keys += [k for k in policy.keys if k.lower() not in known]
                elif kind == "replace":
                    mine.keys = list(policy.keys)
                else:
                    drop = {k.lower() for k in policy.keys}
                    mine.keys = [k for k in mine.keys if k.lower() not in drop]
                    if not mine.keys:
                        current.remove(mine)
        answer = {
            "id": f"{self.world.vault.id}/accessPolicies/",
            "type": "Microsoft.KeyVault/vaults/accessPolicies",
            "properties": (body or {}).get("properties"),
        }
        return Response(200, answer)

    def _patch_cosmos(self, req: Request, props: JsonObject, identity: object = None) -> Response:
        # what a client sends as null (the CLI's `apiProperties: {ServerVersion: null}`) changes nothing
        changes = _meaningful(props)
        if self.state.observed().cmk_code is not None and set(changes) - {"defaultIdentity"}:
            return self.error(
                400,
                "BadRequest",
                "No Update is allowed on Database Account with Customer Managed Key in Revoked Status",
            )
        assigned = _assigned_identities(identity)
        if isinstance(assigned, str):
            return self.error(400, "InvalidIdentityValues", assigned)
        with self.state.write():
            if isinstance(changes.get("defaultIdentity"), str):
                self.world.cosmos.default_identity = changes["defaultIdentity"]
            if assigned is not None:
                # the account's identities may change while it is revoked: Microsoft's fix for a
                # deleted user-assigned identity is to give the account a new one, then make it the
                # default identity (troubleshoot-cmk, "UserAssigned identity ... mistakenly deleted")
                kind, self.world.cosmos.user_assigned = assigned
                set_identity_type(self.world, kind)
        body = shapes.cosmos(self.world, self.state.observed().cmk_code)
        return Response(200, shapes.at_api_version(_COSMOS, body, req.query["api-version"]))

    def put_resource(self, req: Request, rid: str) -> Response:
        if rid.rstrip("/").lower() == self.world.vault.id.lower() and not self.world.vault.deleted:
            return self.patch_resource(req, rid)  # Vaults_CreateOrUpdate of the vault: as its PATCH
        if _UAI.match(rid.rstrip("/")):
            return self.put_identity(req, rid.rstrip("/"))
        m = re.match(
            r"(?P<acct>.+/Microsoft\.DocumentDB/databaseAccounts/[^/]+)/sqlRoleAssignments/"
            + _GUID
            + "$",
            rid.rstrip("/"),
            re.I,
        )
        if m is None:
            return self.error(
                405, "MethodNotAllowed", "The lab does not support PUT on this resource type."
            )
        w = self.world
        if m.group("acct").lower() != w.cosmos.id.lower() or not w.cosmos.customer_readable:
            return self._lookup(m.group("acct"))[1] or self.not_found(req)
        self._need_api_version(req)
        self._authorize(req, "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/write", rid)
        body = req.json()
        props = body.get("properties") if isinstance(body, dict) else None
        if (
            not isinstance(props, dict)
            or not props.get("roleDefinitionId")
            or not props.get("principalId")
        ):
            return self.error(400, "BadRequest", "roleDefinitionId and principalId are required.")
        role = str(props["roleDefinitionId"]).rstrip("/").rsplit("/", 1)[-1]
        if role not in COSMOS_ROLE_DEFINITIONS:
            return self.error(
                400,
                "BadRequest",
                f"The provided SQL Role Definition Id '{props['roleDefinitionId']}' is not valid.",
            )
        new = SqlRoleAssignment(
            m.group("guid").lower(), role, str(props["principalId"]), str(props.get("scope") or "/")
        )
        with self.state.write() as world:
            world.cosmos.sql_role_assignments = [
                a for a in world.cosmos.sql_role_assignments if a.guid != new.guid
            ] + [new]
        return Response(200, shapes.sql_assignment(self.world, new))

    def put_identity(self, req: Request, rid: str) -> Response:
        """UserAssignedIdentities_CreateOrUpdate: 201 and a new principal for a new identity (one
        created under a deleted one's name too), 200 for an existing one (its tags change)."""
        self._need_api_version(req)
        if self._outside_subscription(rid) or rid.split("/")[4].lower() != (
            self.world.resource_group.lower()
        ):
            return self._lookup(rid)[1] or self.not_found(req)
        self._authorize(req, "Microsoft.ManagedIdentity/userAssignedIdentities/write", rid)
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("location"), str):
            return self.error(
                400, "InvalidRequestContent", "The request content must name the 'location'."
            )
        with self.state.write() as world:
            ident = world.identity(rid)
            status = 200 if ident else 201
            if ident is None:
                ident = create_user_assigned_identity(world, _canonical_uai_id(world, rid))
        body = shapes.identity(self.world, ident)
        return Response(status, shapes.at_api_version(_UAI_TYPE, body, req.query["api-version"]))

    def delete_resource(self, req: Request, rid: str) -> Response:
        rid_l, missing = self._writable(req, rid)
        if missing:
            return Response(204)
        c = self.world.cosmos
        for a in c.sql_role_assignments:
            if rid_l == f"{c.id}/sqlRoleAssignments/{a.guid}".lower():
                with self.state.write():
                    c.sql_role_assignments.remove(a)
                return Response(200)
        return self.error(
            405, "MethodNotAllowed", "The lab does not support DELETE on this resource type."
        )

    def is_write(self, req: Request) -> bool:
        return req.method in ("PUT", "PATCH", "DELETE")


def _meaningful(value: Any) -> Any:
    """`value` without what is null (or holds only nulls): the changes a body really asks for."""
    if isinstance(value, dict):
        kept = {k: _meaningful(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not None and v != {}}
    return value


def _canonical_uai_id(world: World, rid: str) -> str:
    """The identity's ARM id as ARM spells it (the lab's subscription and group, the given name)."""
    name = rid.rsplit("/", 1)[-1]
    return f"{world.group_scope}/providers/{_UAI_TYPE}/{name}"


def _assigned_identities(raw: object) -> tuple[str, list[str]] | str | None:
    """(type, user-assigned ids) of an account PATCH's `identity`, None when it has none, or the
    400's message. Each key must name an identity that exists (ARM's `InvalidIdentityValues`,
    e.g. Azure/terraform-provider-azapi issue 840); the lab does not check that (lab's choice)."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return "The identity must have a 'type'."
    assigned = raw.get("userAssignedIdentities") or {}
    if not isinstance(assigned, dict):
        return "The 'UserAssignedIdentities' property must be an object."
    return str(raw["type"]), [str(k) for k, v in assigned.items() if v is not None]


def _policies(raw: object) -> list[AccessPolicy] | str:
    """Access policy entries of a request body (their key permissions), or the 400's message."""
    if not isinstance(raw, list):
        return "The property 'accessPolicies' must be a list of access policy entries."
    out = []
    for entry in raw:
        perms = entry.get("permissions") if isinstance(entry, dict) else None
        if not isinstance(perms, dict) or not isinstance(entry.get("objectId"), str):
            return "Every access policy entry needs 'tenantId', 'objectId' and 'permissions'."
        keys = perms.get("keys") or []
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            return "The access policy's key permissions must be a list of strings."
        out.append(AccessPolicy(entry["objectId"], list(keys)))
    return out
