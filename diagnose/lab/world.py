"""The world model: the customer's tenant, subscription, vault, key, Cosmos DB account and campaign.

Plain data only. Answers are derived from it elsewhere (`derived.py` for the CMK
chain, the services for their views), and scenarios are edits of `healthy_world`.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from diagnose.lab.roles import (
    COSMOS_DATA_CONTRIBUTOR,
    COSMOS_DATA_READER,
    GRAPH_READ,
    GRAPH_WRITE,
    KV_ADMINISTRATOR,
    KV_CRYPTO_SERVICE_ENCRYPTION_USER,
    KV_CRYPTO_USER,
    OWNER,
    READER,
    ROLE_DEFINITIONS,
    RoleDefinition,
)

DAY = 86400.0
_NS = uuid.UUID("6f1c2a52-3c4b-4d0e-9a1f-5b7c8d9e0a11")

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey


def stable_id(name: str) -> str:
    """A GUID that is the same in every run for the same name (readable, reproducible worlds)."""
    return str(uuid.uuid5(_NS, name))


@dataclass
class Secret:
    """A client secret of an application; `value` never leaves the lab except to its owner."""

    value: str
    expires: float


@dataclass
class Principal:
    """A service principal in the tenant (Graph's view) and, for applications, its credentials."""

    object_id: str
    app_id: str
    display_name: str
    type: str = "Application"  # Application | ManagedIdentity
    enabled: bool = True
    disabled_by_microsoft: str | None = None
    deleted_at: float | None = None  # set: in deletedItems (restorable)
    owner_tenant: str | None = None
    secrets: list[Secret] = field(default_factory=list)
    certificate_der: bytes | None = None  # the public certificate registered for the app
    app_roles: list[str] = field(default_factory=list)  # Graph application permissions granted
    system_assigned_to: str | None = None
    """For a system-assigned managed identity's principal: the ARM id of the resource it belongs to
    (Graph's `alternativeNames`: `isExplicit=False` and that id)."""

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def managed(self) -> bool:
        """A managed identity's principal: its resource manages it, Graph does not (docs/lab.md)."""
        return self.type == "ManagedIdentity"

    @property
    def restorable(self) -> bool:
        """In the directory's deleted items. A managed identity's principal never is: deleting the
        identity deletes it for good ("UserAssigned identity isn't recoverable once deleted",
        Microsoft's cross-tenant CMK troubleshooting guide, troubleshoot-cmk)."""
        return self.deleted and not self.managed


@dataclass
class RoleAssignment:
    guid: str
    scope: str
    role: str  # role definition guid
    principal_id: str
    principal_type: str = "ServicePrincipal"
    created: float = field(default_factory=time.time)


@dataclass
class AccessPolicy:
    object_id: str
    keys: list[str]


@dataclass
class Key:
    name: str
    version: str
    private_key: RSAPrivateKey
    enabled: bool = True
    nbf: float | None = None
    exp: float | None = None
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    ops: list[str] = field(
        default_factory=lambda: ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
    )
    deleted: bool = False
    deleted_at: float | None = None  # when it was deleted (its recovery window starts then)


@dataclass
class Vault:
    id: str
    name: str
    url: str  # data-plane base URL, trailing slash
    location: str
    soft_delete: bool = True
    purge_protection: bool = True
    rbac: bool = True
    access_policies: list[AccessPolicy] = field(default_factory=list)
    default_action: str = "Allow"
    bypass: str = "AzureServices"
    ip_rules: list[str] = field(default_factory=list)
    keys: dict[str, Key] = field(default_factory=dict)
    deleted: bool = False

    def key_uri(self, name: str, version: str | None = None) -> str:
        base = f"{self.url}keys/{name}"
        return f"{base}/{version}" if version else base


@dataclass
class UserAssignedIdentity:
    id: str
    name: str
    client_id: str
    principal_id: str


@dataclass
class SqlRoleAssignment:
    guid: str
    role: str  # sqlRoleDefinition guid
    principal_id: str
    scope: str = "/"


@dataclass
class CosmosAccount:
    """A Cosmos DB account with CMK. In topology adobe it is Experience Platform's (not readable)."""

    id: str
    name: str
    endpoint: str  # data-plane base URL, trailing slash
    location: str
    key_uri: str  # versionless
    default_identity: str
    identity_type: str = "UserAssigned"
    user_assigned: list[str] = field(default_factory=list)
    system_principal_id: str | None = None
    disable_local_auth: bool = True
    databases: list[str] = field(default_factory=lambda: ["ajo"])
    sql_role_assignments: list[SqlRoleAssignment] = field(default_factory=list)
    customer_readable: bool = True
    status_text: str | None = None
    """customerManagedKeyStatus as a scenario sets it (e.g. a published value without a code);
    None: derived from the CMK code. A revoked text here also blocks the data plane (lab's choice)."""


@dataclass
class Campaign:
    id: str
    name: str
    status: str  # live | draft | stopped ...
    live_version_id: str
    api_trigger_type: str  # transactional | marketing
    high_throughput: bool
    start: float
    end: float
    start_enabled: bool = True
    end_enabled: bool = True
    channel: str = "email"

    @property
    def kind(self) -> str:
        if self.api_trigger_type == "marketing":
            return "audience"
        return "highthroughput" if self.high_throughput else "unitary"


@dataclass
class Adobe:
    """The customer's Adobe organisation: its OAuth credential, and Experience Platform's CMK side."""

    ims_org: str
    sandbox: str
    client_id: str
    client_secret: str
    scopes: str
    cmk_app_id: str
    cmk_app_name: str
    byok_config: str
    enabled: bool = True


@dataclass
class World:
    """Everything the lab's services answer from."""

    tenant_id: str
    subscription_id: str
    resource_group: str
    location: str
    topology: str  # own | adobe
    principals: dict[str, Principal]
    role_definitions: dict[str, RoleDefinition]
    role_assignments: list[RoleAssignment]
    vault: Vault
    identities: list[UserAssignedIdentity]
    cosmos: CosmosAccount
    campaign: Campaign
    adobe: Adobe
    diagnoser_id: str
    admin_id: str  # the on-call engineer's own identity: runs the fixes (docs/lab.md "The world")
    cmk_principal_id: str  # the identity that reaches the key (CMK identity or Adobe's app)
    caller_id: str  # the production caller of Cosmos DB (AJO's runtime)
    execution_kind: str  # the configured execution endpoint
    key_name: str = "cmk"
    trigger_hold_s: float = 0.0  # >0: the execution POST answers only after this long
    management_groups: list[str] = field(default_factory=list)
    """Ids of the management groups above the subscription (an assignment there applies below)."""
    deleted_identities: list[UserAssignedIdentity] = field(default_factory=list)
    """User-assigned identities deleted from the resource group (ARM answers 404 for them); the
    account still names them (its `userAssignedIdentities` keeps their ids, lab's choice)."""

    @property
    def subscription_scope(self) -> str:
        return f"/subscriptions/{self.subscription_id}"

    @property
    def group_scope(self) -> str:
        return f"{self.subscription_scope}/resourceGroups/{self.resource_group}"

    def principal(self, object_id: str) -> Principal | None:
        return self.principals.get(object_id)

    def principal_by_app(self, app_id: str, include_deleted: bool = False) -> Principal | None:
        for p in self.principals.values():
            if p.app_id.lower() == app_id.lower() and (include_deleted or not p.deleted):
                return p
        return None

    @property
    def diagnoser(self) -> Principal:
        return self.principals[self.diagnoser_id]

    @property
    def admin(self) -> Principal:
        return self.principals[self.admin_id]

    @property
    def key(self) -> Key | None:
        key = self.vault.keys.get(self.key_name)
        return None if key is None or key.deleted else key

    def identity(self, resource_id: str) -> UserAssignedIdentity | None:
        for ident in self.identities:
            if ident.id.lower() == resource_id.lower():
                return ident
        return None

    def deleted_identity(self, resource_id: str) -> UserAssignedIdentity | None:
        for ident in reversed(self.deleted_identities):
            if ident.id.lower() == resource_id.lower():
                return ident
        return None


# -- edits of the world that keep it whole (scenarios and write paths use them) ------------------

# Azure Cosmos DB's first-party application: "search by application ID:
# `a232010e-820c-4083-83bb-3ace5fc29d0b` for any Azure region except Azure Government regions where
# the application ID is `57506a73-e302-42a9-b869-6f12d9ec29e9`" (Microsoft's "Configure
# customer-managed keys for your Azure Cosmos DB account", how-to-setup-customer-managed-keys,
# "Add an access policy"). The lab is a custom cloud: the tool's profile takes the public cloud's id.
COSMOS_FIRST_PARTY_APP_ID = "a232010e-820c-4083-83bb-3ace5fc29d0b"
# The tenant that owns Microsoft's first-party applications, as their principals'
# `appOwnerOrganizationId` (lab's choice: the "Microsoft Services" tenant; no Microsoft page names
# the owner of Azure Cosmos DB's application).
MICROSOFT_SERVICES_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"


def _move_key_rights(world: World, old: str, new: str) -> None:
    """Give the key rights of principal `old` (role assignments and access policies) to `new`."""
    for a in world.role_assignments:
        if a.principal_id == old:
            a.principal_id = new
    for policy in world.vault.access_policies:
        if policy.object_id == old:
            policy.object_id = new


def cmk_identity_as_first_party(world: World, access_policy: bool = True) -> Principal:
    """Make the CMK identity Azure Cosmos DB's first-party identity: `defaultIdentity =
    FirstPartyIdentity`, the principal the service principal of Azure Cosmos DB's own application
    (app id `COSMOS_FIRST_PARTY_APP_ID`, display name "Azure Cosmos DB"), which lives in the
    customer's tenant though Microsoft owns the application ("This registers the Azure Cosmos DB
    first-party-identity in your Azure Key Vault access policy", how-to-setup-customer-managed-keys).
    The key rights move to it; with `access_policy` (the page's classic way, "Add an access
    policy": Get, Unwrap Key, Wrap Key) the vault is in access-policy mode, else its RBAC role
    (Key Vault Crypto Service Encryption User) stays. The account keeps its user-assigned identity,
    no longer the default one. Like any application's principal it can be disabled, deleted and
    restored; the lab's scenarios do neither (a first-party principal missing from the tenant comes
    back by re-registering the Microsoft.DocumentDB resource provider, the same page)."""
    old = world.cmk_principal_id
    principal = world.principal_by_app(COSMOS_FIRST_PARTY_APP_ID)
    if principal is None:
        principal = Principal(
            object_id=stable_id("sp:azure-cosmos-db-first-party"),
            app_id=COSMOS_FIRST_PARTY_APP_ID,
            display_name="Azure Cosmos DB",
            owner_tenant=MICROSOFT_SERVICES_TENANT,
        )
        world.principals[principal.object_id] = principal
    _move_key_rights(world, old, principal.object_id)
    if access_policy:
        world.vault.rbac = False
    world.cosmos.default_identity = "FirstPartyIdentity"
    world.cmk_principal_id = principal.object_id
    return principal


def cmk_identity_as_system_assigned(world: World) -> Principal:
    """Make the CMK identity the account's system-assigned managed identity: the account's
    `identity.type` gains `SystemAssigned` and its `identity.principalId` names a new principal
    (Cosmos DB's "Configure managed identities": "Once your Azure Cosmos DB account has been created
    or updated, it will show ... principalId"), a `ManagedIdentity` service principal named after
    the account ("The name of the system-assigned service principal is always the same as the name
    of the Azure resource it's created for", Entra's managed identities overview) whose Graph
    `alternativeNames` are `isExplicit=False` and the account's ARM id; the key rights move to it
    and `defaultIdentity = SystemAssignedIdentity` (how-to-setup-customer-managed-keys, "Using a
    managed identity in the Azure Key Vault access policy")."""
    old = world.cmk_principal_id
    principal = assign_system_identity(world)
    assert principal is not None, "the world's account already had a system-assigned identity"
    _move_key_rights(world, old, principal.object_id)
    world.cosmos.default_identity = "SystemAssignedIdentity"
    world.cmk_principal_id = principal.object_id
    return principal


def _identity_type(system: bool, user_assigned: bool) -> str:
    """The account's `identity.type` (the Cosmos DB specification's ResourceIdentityType)."""
    if system and user_assigned:
        return "SystemAssigned,UserAssigned"
    return "SystemAssigned" if system else ("UserAssigned" if user_assigned else "None")


def _names_system(identity_type: str) -> bool:
    """Whether an `identity.type` includes the system-assigned identity."""
    return "systemassigned" in identity_type.replace(" ", "").lower()


def has_system_identity(account: CosmosAccount) -> bool:
    return _names_system(account.identity_type)


def set_identity_type(world: World, identity_type: str) -> None:
    """The account's `identity.type` as an identity PATCH sets it: the system-assigned identity
    comes and goes with `SystemAssigned` in it (a new principal when it comes, its principal
    deleted when it goes: below)."""
    if _names_system(identity_type):
        assign_system_identity(world)
    else:
        remove_system_identity(world)
    world.cosmos.identity_type = identity_type


def assign_system_identity(world: World) -> Principal | None:
    """Enable the account's system-assigned identity (`az cosmosdb identity assign`): a new
    principal each time it is enabled (the one before it was deleted with it, below), so no
    earlier grant applies to it. An account that has one keeps it as it is, even one whose
    principal is gone (*lab's choice*: nothing published says ARM makes a new principal for an
    identity the account still holds; the runbook removes it first): that principal, or None."""
    account = world.cosmos
    if has_system_identity(account):
        return world.principal(account.system_principal_id or "")
    enabled = sum(1 for p in world.principals.values() if p.system_assigned_to == account.id)
    principal = Principal(  # new ids each time it is enabled, the same in every run
        object_id=stable_id(f"sp:{account.id}:system:{enabled}"),
        app_id=stable_id(f"app:{account.id}:system:{enabled}"),
        display_name=account.name,
        type="ManagedIdentity",
        system_assigned_to=account.id,
    )
    world.principals[principal.object_id] = principal
    account.system_principal_id = principal.object_id
    account.identity_type = _identity_type(True, bool(account.user_assigned))
    return principal


def remove_system_identity(world: World, at: float | None = None) -> Principal | None:
    """Remove the account's system-assigned identity (`identity.type` without `SystemAssigned`, as
    `az cosmosdb identity remove` sends it): its principal leaves the directory for good ("Removing
    a system-assigned identity in this way will also delete it from Azure AD", App Service's
    managed identity page, "Remove an identity"; Cosmos DB's own page is silent), never into deleted items (a
    managed identity's, `Principal.restorable`). The account's `defaultIdentity` is left as it was
    (lab's choice: nothing published refuses the removal; in the revoked state "assigning/unassigning
    managed service identity is allowed", troubleshoot-cmk 1.5). Its role assignments and access
    policies stay, orphaned (Azure RBAC: role assignments "aren't removed automatically")."""
    account = world.cosmos
    principal = world.principal(account.system_principal_id or "")
    if principal is not None and principal.deleted_at is None:
        principal.deleted_at = time.time() if at is None else at
    account.system_principal_id = None
    account.identity_type = _identity_type(False, bool(account.user_assigned))
    return principal


def cmk_identity_as_application(world: World, name: str = "ajo-cmk-app") -> Principal:
    """Make the CMK identity an application: the account's default identity becomes the
    cross-tenant form `UserAssignedIdentity=<its identity>&FederatedClientId=<app id>` (a
    multi-tenant application federated with the user-assigned identity; Microsoft's "Configure
    cross-tenant customer-managed keys" and troubleshoot-cmk pages), and the key rights move to
    the application's service principal, the principal Key Vault sees. Unlike a managed identity's,
    an application's principal can be disabled (`accountEnabled`), deleted to the directory's
    deleted items and restored (Graph "Restore deleted item": servicePrincipal is a supported type).
    The application is registered in the lab's own tenant (lab's choice: one tenant)."""
    old = world.cmk_principal_id
    app = Principal(
        object_id=stable_id(f"sp:{name}"),
        app_id=stable_id(f"app:{name}"),
        display_name=name,
        owner_tenant=world.tenant_id,  # multi-tenant: signInAudience AzureADMultipleOrgs
    )
    world.principals[app.object_id] = app
    _move_key_rights(world, old, app.object_id)
    uai = world.cosmos.user_assigned[0]
    world.cosmos.default_identity = f"UserAssignedIdentity={uai}&FederatedClientId={app.app_id}"
    world.cmk_principal_id = app.object_id
    return app


def delete_user_assigned_identity(world: World, resource_id: str, at: float) -> None:
    """Delete a user-assigned identity: ARM forgets it, and its principal leaves the directory for
    good (never in deleted items). Its role assignments stay, orphaned ("When a managed identity is
    deleted, any role assignments for that managed identity are not automatically deleted",
    Microsoft's key-vault-managed-identity-role-assignment quickstart sample)."""
    ident = world.identity(resource_id)
    if ident is None:
        return
    world.identities.remove(ident)
    world.deleted_identities.append(ident)
    principal = world.principal(ident.principal_id)
    if principal is not None:
        principal.deleted_at = at


def create_user_assigned_identity(world: World, resource_id: str) -> UserAssignedIdentity:
    """A new user-assigned identity at `resource_id`, with a principal of its own: one created
    again under a deleted one's name is another principal (new object and client ids), so the
    deleted one's role assignments do not apply to it."""
    name = resource_id.rstrip("/").rsplit("/", 1)[-1]
    ident = UserAssignedIdentity(
        id=resource_id, name=name, client_id=str(uuid.uuid4()), principal_id=str(uuid.uuid4())
    )
    world.identities.append(ident)
    world.principals[ident.principal_id] = Principal(
        object_id=ident.principal_id,
        app_id=ident.client_id,
        display_name=name,
        type="ManagedIdentity",
    )
    return ident


ADOBE_TENANT = "fa7b1b5a-7b34-4387-94ae-d2c178decee1"


def healthy_world(
    urls: dict[str, str],
    key_material: RSAPrivateKey,
    client_certificate_der: bytes | None = None,
    topology: str = "own",
    now: float | None = None,
) -> World:
    """The customer's setup with everything right (docs/lab.md "The world").

    `urls` holds the services' base URLs (the vault and Cosmos data planes need them).
    """
    now = time.time() if now is None else now
    tenant = stable_id("tenant")
    sub = stable_id("subscription")
    rg = "rg-ajo-cmk"
    location = "westeurope"
    group = f"/subscriptions/{sub}/resourceGroups/{rg}"
    vault_id = f"{group}/providers/Microsoft.KeyVault/vaults/kv-ajo-cmk"

    diagnoser = Principal(
        object_id=stable_id("sp:diagnose-reader"),
        app_id=stable_id("app:diagnose-reader"),
        display_name="diagnose-reader",
        secrets=[Secret(_secret(), now + 180 * DAY)],
        certificate_der=client_certificate_der,
        app_roles=[GRAPH_READ, GRAPH_WRITE],
    )
    admin = Principal(
        object_id=stable_id("sp:lab-admin"),
        app_id=stable_id("app:lab-admin"),
        display_name="lab-admin",
        secrets=[Secret(_secret(), now + 180 * DAY)],
        app_roles=[GRAPH_WRITE],
    )
    uai = UserAssignedIdentity(
        id=f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-cosmos-cmk",
        name="id-cosmos-cmk",
        client_id=stable_id("app:id-cosmos-cmk"),
        principal_id=stable_id("sp:id-cosmos-cmk"),
    )
    cmk_identity = Principal(
        object_id=uai.principal_id,
        app_id=uai.client_id,
        display_name=uai.name,
        type="ManagedIdentity",
    )
    caller = Principal(
        object_id=stable_id("sp:ajo-campaign-runtime"),
        app_id=stable_id("app:ajo-campaign-runtime"),
        display_name="ajo-campaign-runtime",
        secrets=[Secret(_secret(), now + 365 * DAY)],
    )
    adobe_app = Principal(
        object_id=stable_id("sp:aepcmkmultitenantapp"),
        app_id=stable_id("app:aepcmkmultitenantapp"),
        display_name="aep-prod-va7-aepcmkmultitenantapp",
        owner_tenant=ADOBE_TENANT,
    )
    principals = {p.object_id: p for p in (diagnoser, admin, cmk_identity, caller)}
    if topology == "adobe":
        principals[adobe_app.object_id] = adobe_app
    cmk_principal = cmk_identity if topology == "own" else adobe_app

    key = Key(
        name="cmk",
        version=stable_id("key-version:cmk").replace("-", ""),
        private_key=key_material,
        nbf=now - 365 * DAY,
        exp=now + 365 * DAY,
        created=now - 365 * DAY,
        updated=now - 365 * DAY,
    )
    vault = Vault(
        id=vault_id,
        name="kv-ajo-cmk",
        url=urls["vault"].rstrip("/") + "/",
        location=location,
        access_policies=[
            AccessPolicy(diagnoser.object_id, ["get", "list", "wrapKey", "unwrapKey"]),
            AccessPolicy(cmk_principal.object_id, ["get", "wrapKey", "unwrapKey"]),
        ],
        keys={"cmk": key},
    )
    assignments = [
        RoleAssignment(
            stable_id("ra:diagnoser-reader"),
            f"/subscriptions/{sub}",
            READER,
            diagnoser.object_id,
            created=now - 30 * DAY,
        ),
        RoleAssignment(
            stable_id("ra:diagnoser-crypto-user"),
            vault_id,
            KV_CRYPTO_USER,
            diagnoser.object_id,
            created=now - 30 * DAY,
        ),
        RoleAssignment(
            stable_id("ra:admin-owner"),
            f"/subscriptions/{sub}",
            OWNER,
            admin.object_id,
            created=now - 400 * DAY,
        ),
        RoleAssignment(
            stable_id("ra:admin-keyvault-administrator"),
            f"/subscriptions/{sub}",
            KV_ADMINISTRATOR,
            admin.object_id,
            created=now - 400 * DAY,
        ),
        RoleAssignment(
            stable_id("ra:cmk-encryption-user"),
            vault_id,
            KV_CRYPTO_SERVICE_ENCRYPTION_USER,
            cmk_principal.object_id,
            created=now - 90 * DAY,
        ),
    ]
    if topology == "own":
        cosmos = CosmosAccount(
            id=f"{group}/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-ajo",
            name="cosmos-ajo",
            endpoint=urls["cosmos"].rstrip("/") + "/",
            location=location,
            key_uri=vault.key_uri("cmk"),
            default_identity=f"UserAssignedIdentity={uai.id}",
            user_assigned=[uai.id],
            sql_role_assignments=[
                SqlRoleAssignment(
                    stable_id("sql:diagnoser"), COSMOS_DATA_READER, diagnoser.object_id
                ),
                SqlRoleAssignment(
                    stable_id("sql:caller"), COSMOS_DATA_CONTRIBUTOR, caller.object_id
                ),
            ],
        )
    else:
        adobe_group = (
            f"/subscriptions/{stable_id('adobe-subscription')}/resourceGroups/aep-prod-va7"
        )
        adobe_uai = (
            f"{adobe_group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aep-cmk"
        )
        cosmos = CosmosAccount(
            id=f"{adobe_group}/providers/Microsoft.DocumentDB/databaseAccounts/aep-prod-va7-profile",
            name="aep-prod-va7-profile",
            endpoint=urls["cosmos"].rstrip("/") + "/",
            location="eastus",
            key_uri=vault.key_uri("cmk"),
            default_identity=f"UserAssignedIdentity={adobe_uai}&FederatedClientId={adobe_app.app_id}",
            user_assigned=[adobe_uai],
            sql_role_assignments=[
                SqlRoleAssignment(
                    stable_id("sql:caller"), COSMOS_DATA_CONTRIBUTOR, caller.object_id
                )
            ],
            customer_readable=False,
        )
    campaign = Campaign(
        id=stable_id("campaign:order-confirmation"),
        name="Order confirmation",
        status="live",
        live_version_id=stable_id("campaign-version:order-confirmation"),
        api_trigger_type="transactional",
        high_throughput=False,
        start=now - 7 * DAY,
        end=now + 30 * DAY,
    )
    adobe = Adobe(
        ims_org="8C6043F15F43B6390A49401A@AdobeOrg",
        sandbox="prod",
        client_id=uuid.uuid4().hex,
        client_secret="p8e-" + secrets.token_urlsafe(24),
        scopes="openid,AdobeID,read_organizations,additional_info.projectedProductContext,session",
        cmk_app_id=adobe_app.app_id,
        cmk_app_name=adobe_app.display_name,
        byok_config="ajo-byok",
    )
    return World(
        tenant_id=tenant,
        subscription_id=sub,
        resource_group=rg,
        location=location,
        topology=topology,
        principals=principals,
        role_definitions={d.guid: d for d in ROLE_DEFINITIONS},
        role_assignments=assignments,
        vault=vault,
        identities=[uai],
        cosmos=cosmos,
        campaign=campaign,
        adobe=adobe,
        diagnoser_id=diagnoser.object_id,
        admin_id=admin.object_id,
        cmk_principal_id=cmk_principal.object_id,
        caller_id=caller.object_id,
        execution_kind="unitary",
    )


def _secret() -> str:
    """A client secret in Entra's shape (`xxx8Q~...`), random per lab start."""
    return secrets.token_urlsafe(3)[:3] + "8Q~" + secrets.token_urlsafe(30)[:37]
