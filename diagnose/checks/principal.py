"""principal.enabled: the identity that reaches the key exists, is enabled, is not disabled by Microsoft."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

from diagnose.answers import Fields
from diagnose.checks import reads
from diagnose.checks.base import Check, Context, Fact, Outcome, Skip, finding
from diagnose.errors import ToolLimitation

PRINCIPAL_OBJECT_ID: Fact[str] = Fact(
    "principal.object_id", "the object id of the service principal that reaches the key"
)


@dataclass(frozen=True)
class DefaultIdentity:
    """The account's `defaultIdentity`, parsed. `kind` is None when the value is not a valid identity."""

    raw: str
    kind: str | None
    resource_id: str | None = None
    federated_client_id: str | None = None


def parse_default_identity(raw: str | None) -> DefaultIdentity:
    value = (raw or "").strip()
    if value in ("FirstPartyIdentity", "SystemAssignedIdentity", "DelegatedSystemAssignedIdentity"):
        return DefaultIdentity(value, value)
    for kind in ("UserAssignedIdentity", "DelegatedUserAssignedIdentity"):
        if value.startswith(kind + "="):
            rest = value[len(kind) + 1 :]
            resource_id, _, extra = rest.partition("&")
            federated = (
                extra.removeprefix("FederatedClientId=")
                if extra.startswith("FederatedClientId=")
                else None
            )
            if (
                resource_id.lower().startswith("/subscriptions/")
                and "/userassignedidentities/" in resource_id.lower()
            ):
                return DefaultIdentity(value, kind, resource_id, federated)
    return DefaultIdentity(value, None)


def assigned_identity(account: Fields, resource_id: str) -> Fields | None:
    """The account's record of a user-assigned identity it holds (None if it does not hold it)."""
    identity = account.opt_obj("identity")
    assigned = identity.opt_mapping("userAssignedIdentities") if identity else {}
    return next((i for rid, i in assigned.items() if rid.lower() == resource_id.lower()), None)


def user_assigned_client_id(account: Fields, resource_id: str) -> str | None:
    """The clientId of a user-assigned identity the account holds (None if it does not hold it,
    or its record names none)."""
    info = assigned_identity(account, resource_id)
    return info.opt_text("clientId") if info else None


def resolve_app_id(ctx: Context) -> tuple[str, str]:
    """(app id, where it came from) of the identity that reaches the key."""
    profile = ctx.profile
    if profile.principal_app_id:
        return profile.principal_app_id, "profile (principal_app_id)"
    if profile.topology == "adobe":
        app_id = reads.byok_app_registration(ctx).opt_text("applicationId")
        if not app_id:
            raise Skip("Experience Platform's app registration did not name an application id")
        return app_id, "Experience Platform's BYOK app registration"
    account = reads.cosmos_account(ctx)
    identity = parse_default_identity(account.obj("properties").opt_text("defaultIdentity"))
    if identity.kind == "FirstPartyIdentity":
        return (
            profile.cloud.first_party_cosmos_app_id,
            "the account's default identity (first-party)",
        )
    if identity.kind == "SystemAssignedIdentity":
        _, object_id = _system_identity(account)
        principal = reads.service_principal_by_object_id(ctx, object_id) if object_id else None
        app_id = principal.opt_text("appId") if principal else None
        if app_id:
            return app_id, "the account's default identity (system-assigned)"
    if identity.federated_client_id:
        return identity.federated_client_id, "the account's default identity (federated client id)"
    if identity.resource_id:
        client_id = user_assigned_client_id(account, identity.resource_id)
        if client_id:
            return client_id, "the account's default identity (user-assigned)"
    raise Skip(
        "cannot tell which principal reaches the key: set principal_app_id "
        f"(the account's default identity is {identity.raw or 'empty'!r})"
    )


# -- the kind of identity: what can happen to its principal differs -----------------------------
# Cosmos DB's `defaultIdentity` is `FirstPartyIdentity`, `SystemAssignedIdentity`,
# `UserAssignedIdentity=<ARM id>`, or the cross-tenant `UserAssignedIdentity=<ARM id>&FederatedClientId=<app id>`
# (Microsoft's cmk-troubleshooting-guide, "Invalid Azure Cosmos DB default identity", and troubleshoot-cmk).
# An application's service principal (first-party or multi-tenant) can be disabled, deleted to the
# directory's deleted items and restored (Graph "Restore deleted item": servicePrincipal is a
# supported type). A managed identity's principal belongs to its Azure resource: Graph does not
# manage it, and a deleted user-assigned identity "isn't recoverable once deleted" (troubleshoot-cmk):
# it is recreated, granted the key and made the default identity again. A system-assigned identity
# (`identity.principalId` of the account) goes with the account's identity: removed from the account,
# its principal is deleted for good; enabled again, it is a new principal to grant the key.
# Azure Cosmos DB's first-party application (FirstPartyIdentity) has its service principal in the
# customer's tenant, granted the key by an access policy or a role (how-to-setup-customer-managed-keys).

USER_ASSIGNED = "user-assigned managed identity"
SYSTEM_ASSIGNED = "system-assigned managed identity"
MANAGED = "managed identity"
FEDERATED_APP = "multi-tenant application (cross-tenant, FederatedClientId)"
FIRST_PARTY = "Azure Cosmos DB's first-party application"
APPLICATION = "application"
_KIND_OF_DEFAULT = {
    "FirstPartyIdentity": FIRST_PARTY,
    "SystemAssignedIdentity": SYSTEM_ASSIGNED,
    "DelegatedSystemAssignedIdentity": SYSTEM_ASSIGNED,
    "UserAssignedIdentity": USER_ASSIGNED,
    "DelegatedUserAssignedIdentity": USER_ASSIGNED,
}
MANAGED_KINDS = (USER_ASSIGNED, SYSTEM_ASSIGNED, MANAGED)


def kind_of(identity: DefaultIdentity) -> str | None:
    """The kind of principal a parsed `defaultIdentity` names (None: not a valid identity)."""
    if identity.kind is None:
        return None
    if identity.federated_client_id:
        return FEDERATED_APP
    return _KIND_OF_DEFAULT[identity.kind]


def as_default_identity(kind: str | None, resource_id: str | None, app_id: str) -> str | None:
    """The `defaultIdentity` value that names this principal (None when it cannot be told)."""
    if kind == FIRST_PARTY:
        return "FirstPartyIdentity"
    if kind == SYSTEM_ASSIGNED:
        return "SystemAssignedIdentity"
    if kind == USER_ASSIGNED and resource_id:
        return f"UserAssignedIdentity={resource_id}"
    if kind == FEDERATED_APP and resource_id:
        return f"UserAssignedIdentity={resource_id}&FederatedClientId={app_id}"
    return None


def _graph_kind(principal: Fields, first_party_app_id: str) -> tuple[str, str | None]:
    """(kind, ARM id) from Graph: a managed identity's `alternativeNames` hold `isExplicit=True`
    (user-assigned) or `isExplicit=False` (system-assigned) and its resource's ARM id (Graph's
    servicePrincipal reference: "full resource ids for managed identities"; a real answer with
    `isExplicit=False`: databrickslabs/ucx pull request 868). An application's principal whose appId
    is Azure Cosmos DB's first-party application (the cloud's, how-to-setup-customer-managed-keys:
    a232010e-820c-4083-83bb-3ace5fc29d0b, 57506a73-e302-42a9-b869-6f12d9ec29e9 in Azure Government)
    is the first-party identity."""
    if (principal.opt_text("servicePrincipalType") or "").lower() != "managedidentity":
        app_id = (principal.opt_text("appId") or "").lower()
        return (
            FIRST_PARTY if app_id and app_id == first_party_app_id.lower() else APPLICATION
        ), None
    names = principal.opt_texts("alternativeNames")
    resource_id = next((n for n in names if n.lower().startswith("/subscriptions/")), None)
    explicit = {n.lower() for n in names}
    if "isexplicit=true" in explicit:
        return USER_ASSIGNED, resource_id
    if "isexplicit=false" in explicit:
        return SYSTEM_ASSIGNED, resource_id
    return MANAGED, resource_id


def _default_identity(ctx: Context) -> DefaultIdentity | str:
    """The account's parsed `defaultIdentity`, or why it was not read (a reason, never a verdict)."""
    if ctx.profile.topology != "own" or not ctx.profile.cosmos_id:
        return "no Cosmos DB account to read (topology adobe, or no cosmos_id)"
    try:
        account = reads.cosmos_account(ctx)
    except (ToolLimitation, Skip) as exc:
        return f"the account could not be read: {exc}"
    return parse_default_identity(account.obj("properties").opt_text("defaultIdentity"))


def _describe(evidence: dict[str, Any], identity: DefaultIdentity | str) -> None:
    """Record in `evidence` what the account's default identity says (or why it was not read)."""
    if isinstance(identity, str):
        evidence["default_identity"] = f"not read ({identity})"
        return
    evidence["default_identity"] = identity.raw or "(empty)"
    if kind := kind_of(identity):
        evidence.update(identity_kind=kind, identity_kind_from="the account's defaultIdentity")
    if identity.resource_id:
        evidence["resource_id"] = identity.resource_id


def check_principal(ctx: Context) -> Outcome:
    evidence: dict[str, Any] = {}
    named: DefaultIdentity | str | None = None
    if not ctx.profile.principal_app_id and ctx.profile.topology == "own":
        named = _default_identity(ctx)  # read anyway by resolve_app_id
        _describe(evidence, named)
    try:
        app_id, source = resolve_app_id(ctx)
    except Skip:
        if _held(named, ctx):
            # the account holds its user-assigned identity without a client id to ask Graph with:
            # only ARM's own word that the identity is gone decides
            return _gone(ctx, named, evidence, graph_said=False)
        if _system_default(named):
            # the account's own identity: ARM's identity record, or Graph on its principalId, decides
            return _system_gone(ctx, evidence, pinned=None)
        raise  # a default identity the account does not hold is cosmos.cmk's to report
    evidence.update(app_id=app_id, app_id_from=source)
    principal = reads.service_principal(ctx, app_id)
    if principal is None:
        if named is None:
            named = _default_identity(ctx)  # Graph says it is gone: which kind was it?
            _describe(evidence, named)
        return _deleted(ctx, app_id, evidence, named)
    return _present(ctx, app_id, principal, evidence)


def _present(ctx: Context, app_id: str, principal: Fields, evidence: dict[str, Any]) -> Outcome:
    # accountEnabled absent is not "enabled": Fields.flag raises, and the check is undecided
    enabled = principal.flag("accountEnabled")
    object_id = principal.text("id")
    by_microsoft = principal.opt_text("disabledByMicrosoftStatus")
    graph_kind, graph_resource = _graph_kind(principal, ctx.profile.cloud.first_party_cosmos_app_id)
    if "identity_kind" not in evidence:  # not read from the account's defaultIdentity
        told_by = "Graph's appId" if graph_kind == FIRST_PARTY else "Graph's servicePrincipalType"
        evidence.update(identity_kind=graph_kind, identity_kind_from=told_by)
    if graph_resource and not evidence.get("resource_id"):
        evidence["resource_id"] = graph_resource
    kind = evidence["identity_kind"]
    evidence.update(
        object_id=object_id,
        display_name=principal.opt_text("displayName"),
        type=principal.opt_text("servicePrincipalType"),
        accountEnabled=enabled,
        disabledByMicrosoftStatus=by_microsoft,
    )
    as_default = as_default_identity(kind, evidence.get("resource_id"), app_id)
    if as_default:
        evidence["as_default_identity"] = as_default
    ctx.set_fact(PRINCIPAL_OBJECT_ID, object_id)
    name = principal.opt_text("displayName") or app_id
    findings = []
    if not enabled:
        findings.append(
            finding(
                "principal.disabled",
                f"the service principal {name} (app {app_id}, {kind}) is disabled (accountEnabled: false)",
                app_id=app_id,
                object_id=object_id,
                identity_kind=kind,
            )
        )
    if by_microsoft not in (None, "", "NotDisabled"):
        findings.append(
            finding(
                "principal.disabled-by-microsoft",
                f"Microsoft disabled {name}: {by_microsoft}",
                app_id=app_id,
            )
        )
    summary = "disabled" if findings else f"{name} ({kind}) exists and is enabled"
    return Outcome(summary, findings, evidence)


def _deleted(
    ctx: Context, app_id: str, evidence: dict[str, Any], named: DefaultIdentity | str
) -> Outcome:
    """Graph said (Request_ResourceNotFound) there is no such principal: deleted, restorable or not."""
    deleted = reads.deleted_service_principals(ctx, app_id)
    restorable = [
        d
        for d in deleted
        if (d.opt_text("servicePrincipalType") or "").lower() != "managedidentity"
    ]
    if restorable:
        item = restorable[0]
        when = item.opt_text("deletedDateTime")
        display_name = item.opt_text("displayName")
        evidence.update(
            deleted_object_id=item.opt_text("id"),
            deleted_at=when,
            display_name=display_name,
            restorable=True,
        )
        if "identity_kind" not in evidence:
            evidence.update(identity_kind=APPLICATION, identity_kind_from="Graph's deleted items")
        message = (
            f"the service principal of app {app_id} ({display_name}) was deleted"
            f"{' on ' + when if when else ''}; "
            "it is still in the directory's deleted items and can be restored"
        )
        return _principal_deleted(message, evidence)
    if _held(named, ctx):
        return _gone(ctx, named, evidence, graph_said=True)
    if _system_default(named):
        return _system_gone(ctx, evidence, pinned=app_id)
    evidence["restorable"] = False
    message = (
        f"no service principal with app id {app_id} exists, and none is in the directory's "
        "deleted items: it cannot be restored, recreate it"
    )
    return _principal_deleted(message, evidence)


def _principal_deleted(message: str, evidence: dict[str, Any]) -> Outcome:
    """principal.deleted, its finding carrying the check's evidence."""
    return Outcome(
        "the principal was deleted",
        [finding("principal.deleted", message, **evidence)],
        evidence,
    )


def _held(named: DefaultIdentity | str | None, ctx: Context) -> TypeGuard[DefaultIdentity]:
    """Whether the default identity is a user-assigned identity among the account's own (an
    identity the account does not hold is an invalid default identity: cosmos.cmk says so)."""
    if not isinstance(named, DefaultIdentity) or kind_of(named) != USER_ASSIGNED:
        return False
    account = reads.cosmos_account(ctx)  # read already (memoized)
    return assigned_identity(account, named.resource_id or "") is not None


def _gone(
    ctx: Context, named: DefaultIdentity, evidence: dict[str, Any], graph_said: bool
) -> Outcome:
    """The default identity is a user-assigned managed identity with no principal: ARM says
    whether the identity itself still exists. A deleted one cannot be restored (troubleshoot-cmk).

    `graph_said`: Graph answered that there is no such principal, nor any in its deleted items.
    Without it (the account's record of the identity names no client id to ask Graph with), only
    ARM's ResourceNotFound decides: an identity that exists, or an ARM read that failed, is no
    finding about the customer's setup.
    """
    resource_id = named.resource_id or ""
    name = resource_id.rsplit("/", 1)[-1]
    evidence.update(
        resource_id=resource_id,
        identity_name=name,
        restorable=False,
        as_default_identity=as_default_identity(USER_ASSIGNED, resource_id, ""),
    )
    try:
        found = reads.arm_resource(ctx, resource_id, "identity", f"the managed identity {name}")
    except ToolLimitation as exc:
        if not graph_said:
            raise
        found, evidence["identity_resource"] = None, f"not read ({exc})"
    else:
        evidence["identity_resource"] = "exists" if found else "ARM: ResourceNotFound"
    if found is not None:
        if not graph_said:
            raise Skip(
                f"cannot tell which principal reaches the key: the account's record of its default "
                f"identity {name} names no clientId, and the identity exists: set principal_app_id"
            )
        message = (
            f"the account's default identity is the user-assigned identity {name}, which exists, "
            "but the directory has no service principal for it (nor any in its deleted items)"
        )
        return _principal_deleted(message, evidence)
    said = ["no service principal, none in the directory's deleted items"] if graph_said else []
    if str(evidence["identity_resource"]).startswith("ARM"):
        said.append("ARM answers ResourceNotFound for it")
    message = (
        f"the account's default identity is the user-assigned managed identity {name}, which was "
        "deleted: "
        + ", and ".join(said)
        + "; a deleted managed identity cannot be restored: recreate it, grant it the key and "
        "make it the account's default identity"
    )
    return Outcome(
        "the managed identity was deleted",
        [finding("principal.managed-identity-deleted", message, **evidence)],
        evidence,
    )


def _system_identity(account: Fields) -> tuple[str | None, str | None]:
    """The account's `identity.type` and its system-assigned identity's `principalId`, as ARM
    gives them (None where absent)."""
    held = account.opt_obj("identity")
    return (held.opt_text("type"), held.opt_text("principalId")) if held else (None, None)


def _system_default(named: DefaultIdentity | str | None) -> TypeGuard[DefaultIdentity]:
    """Whether the default identity is the account's own system-assigned identity (not a
    DelegatedSystemAssignedIdentity: another resource's, which the account's identity.type does
    not tell about)."""
    return isinstance(named, DefaultIdentity) and named.kind == "SystemAssignedIdentity"


def _system_gone(ctx: Context, evidence: dict[str, Any], pinned: str | None) -> Outcome:
    """The default identity is the account's system-assigned managed identity and no principal
    answers for it. Decided only on the services' own words: ARM's `identity.type` of the account
    without `SystemAssigned` (the identity was removed from the account), or Graph's
    Request_ResourceNotFound for the account's `identity.principalId`. A system-assigned identity's
    principal is deleted with it (App Service's managed identity page: "Removing a system-assigned
    identity in this way will also delete it from Azure AD"), and a managed identity's
    principal is never in the directory's deleted items: it is enabled on the account again, which
    makes a new principal, then granted the key (how-to-setup-customer-managed-keys, "Using a
    managed identity in the Azure Key Vault access policy"). Anything less is no finding.

    `pinned`: the profile's principal_app_id, which Graph said does not exist."""
    account = reads.cosmos_account(ctx)  # read already (memoized)
    kind, object_id = _system_identity(account)
    name = account.opt_text("name") or (ctx.profile.cosmos_id or "").rsplit("/", 1)[-1]
    evidence.update(
        identity_kind=SYSTEM_ASSIGNED,
        identity_kind_from="the account's defaultIdentity",
        resource_id=account.opt_text("id") or ctx.profile.cosmos_id,
        identity_type=kind,
        restorable=False,
        as_default_identity="SystemAssignedIdentity",
    )
    if kind is None:
        raise Skip(
            "cannot tell which principal reaches the key: the account's default identity is its "
            "system-assigned identity, and ARM's answer for the account has no identity.type"
        )
    if "systemassigned" not in kind.replace(" ", "").lower():
        evidence["system_identity"] = f"ARM: the account's identity.type is {kind}"
        said = f"the account no longer has it (ARM: identity.type {kind!r}, no SystemAssigned)"
    elif object_id and reads.service_principal_by_object_id(ctx, object_id) is None:
        evidence.update(
            principal_object_id=object_id,
            system_identity="Graph: Request_ResourceNotFound for the account's principalId",
        )
        said = (
            f"the directory has no service principal {object_id} for it (Graph: "
            "Request_ResourceNotFound), and a managed identity's is never in the deleted items"
        )
    elif pinned is not None and object_id:
        raise Skip(
            f"principal_app_id {pinned} names no service principal, but the account's "
            f"system-assigned identity (principal {object_id}) exists: set principal_app_id to its "
            "app id, or leave it out (diagnose reads it from the default identity)"
        )
    else:
        raise Skip(
            "cannot tell which principal reaches the key: the account's system-assigned identity "
            "names no principalId"
        )
    message = (
        f"the account's default identity is its system-assigned managed identity, but {said}; "
        "a system-assigned identity cannot be restored: enable it on the account again (a new "
        "principal), grant the new principal the key and keep SystemAssignedIdentity as the "
        f"default identity of {name}"
    )
    return Outcome(
        "the system-assigned identity was removed",
        [finding("principal.system-identity-removed", message, **evidence)],
        evidence,
    )


PRINCIPAL_ENABLED = Check(
    id="principal.enabled",
    title="The identity that reaches the key is enabled",
    run=check_principal,
    causes=(
        "principal.deleted",
        "principal.managed-identity-deleted",
        "principal.system-identity-removed",
        "principal.disabled",
        "principal.disabled-by-microsoft",
    ),
    provides=(PRINCIPAL_OBJECT_ID,),
    permissions=(
        "Microsoft Graph Application.Read.All",
        "Reader on the Cosmos DB account and its user-assigned identity (Microsoft.DocumentDB/databaseAccounts/read, Microsoft.ManagedIdentity/userAssignedIdentities/read)",
    ),
)
