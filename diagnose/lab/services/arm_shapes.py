"""The JSON shapes of ARM resources, built from the world (ARM's own field names and forms)."""

from __future__ import annotations

import time
from typing import Any

from diagnose.lab.derived import cmk_status
from diagnose.lab.roles import COSMOS_ROLE_DEFINITIONS
from diagnose.lab.world import (
    RoleAssignment,
    SqlRoleAssignment,
    UserAssignedIdentity,
    World,
)


def iso(ts: float | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(ts))


def subscription(world: World) -> dict[str, Any]:
    w = world
    return {
        "id": w.subscription_scope,
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": w.subscription_id,
        "tenantId": w.tenant_id,
        "displayName": "ajo-production",
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def definition_id(world: World, guid: str) -> str:
    return f"{world.subscription_scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def definition(world: World, guid: str) -> dict[str, Any]:
    d = world.role_definitions[guid]
    return {
        "properties": {
            "roleName": d.name,
            "type": "BuiltInRole",
            "description": d.description,
            "assignableScopes": ["/"],
            "permissions": [
                {
                    "actions": d.actions,
                    "notActions": d.not_actions,
                    "dataActions": d.data_actions,
                    "notDataActions": d.not_data_actions,
                }
            ],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": None,
            "updatedBy": None,
        },
        "id": definition_id(world, guid),
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": guid,
    }


def assignment(world: World, a: RoleAssignment) -> dict[str, Any]:
    return {
        "properties": {
            "roleDefinitionId": definition_id(world, a.role),
            "principalId": a.principal_id,
            "principalType": a.principal_type,
            "scope": a.scope,
            "condition": None,
            "conditionVersion": None,
            "createdOn": iso(a.created),
            "updatedOn": iso(a.created),
            "createdBy": None,
            "updatedBy": None,
            "delegatedManagedIdentityResourceId": None,
            "description": None,
        },
        "id": f"{a.scope}/providers/Microsoft.Authorization/roleAssignments/{a.guid}",
        "type": "Microsoft.Authorization/roleAssignments",
        "name": a.guid,
    }


def group(world: World) -> dict[str, Any]:
    w = world
    return {
        "id": w.group_scope,
        "name": w.resource_group,
        "type": "Microsoft.Resources/resourceGroups",
        "location": w.location,
        "properties": {"provisioningState": "Succeeded"},
    }


def vault(world: World) -> dict[str, Any]:
    w = world
    v = w.vault
    props: dict[str, Any] = {
        "sku": {"family": "A", "name": "standard"},
        "tenantId": w.tenant_id,
        "accessPolicies": [
            {
                "tenantId": w.tenant_id,
                "objectId": p.object_id,
                "permissions": {"keys": list(p.keys), "secrets": [], "certificates": []},
            }
            for p in v.access_policies
        ],
        "enabledForDeployment": False,
        "enabledForDiskEncryption": False,
        "enabledForTemplateDeployment": False,
        "enableSoftDelete": v.soft_delete,
        "softDeleteRetentionInDays": 90,
        "enableRbacAuthorization": v.rbac,
        "vaultUri": v.url,
        "provisioningState": "Succeeded",
        "publicNetworkAccess": "Enabled",
        "networkAcls": {
            "bypass": v.bypass,
            "defaultAction": v.default_action,
            "ipRules": [{"value": ip} for ip in v.ip_rules],
            "virtualNetworkRules": [],
        },
    }
    if v.purge_protection:
        props["enablePurgeProtection"] = True  # ARM omits the property when it was never set
    return {
        "id": v.id,
        "name": v.name,
        "type": "Microsoft.KeyVault/vaults",
        "location": v.location,
        "tags": {},
        "properties": props,
    }


def key(world: World, name: str) -> dict[str, Any]:
    v = world.vault
    k = v.keys[name]
    return {
        "id": f"{v.id}/keys/{name}",
        "name": name,
        "type": "Microsoft.KeyVault/vaults/keys",
        "location": v.location,
        "tags": {},
        "properties": {
            "attributes": {
                "enabled": k.enabled,
                "nbf": None if k.nbf is None else int(k.nbf),
                "exp": None if k.exp is None else int(k.exp),
                "created": int(k.created),
                "updated": int(k.updated),
                "recoveryLevel": "Recoverable" if v.purge_protection else "Recoverable+Purgeable",
                "exportable": False,
            },
            "kty": "RSA",
            "keyOps": list(k.ops),
            "keySize": k.private_key.key_size,
            "keyUri": v.key_uri(name),
            "keyUriWithVersion": v.key_uri(name, k.version),
        },
    }


def keys(world: World) -> dict[str, Any]:
    v = world.vault
    return {"value": [key(world, n) for n, k in v.keys.items() if not k.deleted]}


def identity(world: World, ident: UserAssignedIdentity) -> dict[str, Any]:
    w = world
    return {
        "id": ident.id,
        "name": ident.name,
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "location": w.location,
        "tags": {},
        "properties": {
            "tenantId": w.tenant_id,
            "principalId": ident.principal_id,
            "clientId": ident.client_id,
        },
    }


def cosmos(world: World, code: int | None) -> dict[str, Any]:
    w = world
    c = w.cosmos
    key = w.key
    uais = {}
    for i in c.user_assigned:
        # a deleted identity keeps the ids it had in the account's record (lab's choice)
        ident = w.identity(i) or w.deleted_identity(i)
        uais[i] = (
            {"clientId": ident.client_id, "principalId": ident.principal_id}
            if ident
            else {"clientId": None, "principalId": None}
        )
    location = {
        "id": f"{c.name}-{c.location}",
        "locationName": "West Europe",
        "documentEndpoint": c.endpoint,
        "provisioningState": "Succeeded",
        "failoverPriority": 0,
        "isZoneRedundant": False,
    }
    return {
        "id": c.id,
        "name": c.name,
        "location": "West Europe",
        "type": "Microsoft.DocumentDB/databaseAccounts",
        "kind": "GlobalDocumentDB",
        "tags": {},
        "identity": {
            "type": c.identity_type,
            "tenantId": w.tenant_id,
            "principalId": c.system_principal_id,
            "userAssignedIdentities": uais,
        },
        "properties": {
            "provisioningState": "Succeeded",
            "documentEndpoint": c.endpoint,
            "databaseAccountOfferType": "Standard",
            "consistencyPolicy": {
                "defaultConsistencyLevel": "Session",
                "maxIntervalInSeconds": 5,
                "maxStalenessPrefix": 100,
            },
            "locations": [location],
            "readLocations": [location],
            "writeLocations": [location],
            "failoverPolicies": [
                {"id": location["id"], "locationName": "West Europe", "failoverPriority": 0}
            ],
            "capabilities": [],
            "keyVaultKeyUri": c.key_uri,
            "keyVaultKeyUriVersion": w.vault.key_uri(w.key_name, key.version) if key else None,
            "defaultIdentity": c.default_identity,
            "customerManagedKeyStatus": cmk_status(code)
            if c.status_text is None
            else c.status_text,
            "disableLocalAuth": c.disable_local_auth,
            "publicNetworkAccess": "Enabled",
            "enableAutomaticFailover": False,
            "enableMultipleWriteLocations": False,
        },
    }


# Fields the lab models that some api-versions' models lack: (resource type, property) -> whether
# the api-version has it. `keyVaultKeyUriVersion` is absent from the stable 2024-11-15 model
# (azure-mgmt-cosmosdb 9.7.0) and present in the preview models (lab's choice: previews only).
_BY_VERSION = {
    ("microsoft.documentdb/databaseaccounts", "keyVaultKeyUriVersion"): lambda v: v.endswith(
        "-preview"
    ),
}


def at_api_version(rtype: str, body: dict[str, Any], api_version: str) -> dict[str, Any]:
    """`body` as ARM answers it at `api_version`: without the properties that version lacks."""
    props = body.get("properties")
    for (kind, name), present in _BY_VERSION.items():
        if kind == rtype.lower() and isinstance(props, dict) and not present(api_version.lower()):
            props.pop(name, None)
    return body


def sql_assignment(world: World, a: SqlRoleAssignment) -> dict[str, Any]:
    c = world.cosmos
    return {
        "id": f"{c.id}/sqlRoleAssignments/{a.guid}",
        "name": a.guid,
        "type": "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments",
        "properties": {
            "roleDefinitionId": f"{c.id}/sqlRoleDefinitions/{a.role}",
            "principalId": a.principal_id,
            "scope": c.id if a.scope in ("", "/") else f"{c.id}{a.scope}",
        },
    }


def sql_definition(world: World, guid: str) -> dict[str, Any]:
    c = world.cosmos
    name, actions = COSMOS_ROLE_DEFINITIONS[guid]
    return {
        "id": f"{c.id}/sqlRoleDefinitions/{guid}",
        "name": guid,
        "type": "Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions",
        "properties": {
            "roleName": name,
            "type": "BuiltInRole",
            "assignableScopes": [c.id],
            "permissions": [{"dataActions": actions, "notDataActions": []}],
        },
    }
