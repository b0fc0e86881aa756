"""principal.enabled: the identity that reaches the key exists, is enabled, is not disabled by Microsoft."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from diagnose.answers import Fields
from diagnose.checks import reads
from diagnose.checks.base import Check, Context, Fact, Outcome, Skip, finding

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


def user_assigned_client_id(account: Fields, resource_id: str) -> str | None:
    """The clientId of a user-assigned identity the account holds (None if it does not hold it)."""
    identity = account.opt_obj("identity")
    assigned = identity.opt_mapping("userAssignedIdentities") if identity else {}
    for rid, info in assigned.items():
        if rid.lower() == resource_id.lower():
            return info.opt_text("clientId")
    return None


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
        held = account.opt_obj("identity")
        object_id = held.opt_text("principalId") if held else None
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


def check_principal(ctx: Context) -> Outcome:
    app_id, source = resolve_app_id(ctx)
    evidence: dict[str, Any] = {"app_id": app_id, "app_id_from": source}
    principal = reads.service_principal(ctx, app_id)
    if principal is None:
        return _deleted(ctx, app_id, evidence)
    # accountEnabled absent is not "enabled": Fields.flag raises, and the check is undecided
    enabled = principal.flag("accountEnabled")
    object_id = principal.text("id")
    by_microsoft = principal.opt_text("disabledByMicrosoftStatus")
    evidence.update(
        object_id=object_id,
        display_name=principal.opt_text("displayName"),
        type=principal.opt_text("servicePrincipalType"),
        accountEnabled=enabled,
        disabledByMicrosoftStatus=by_microsoft,
    )
    ctx.set_fact(PRINCIPAL_OBJECT_ID, object_id)
    name = principal.opt_text("displayName") or app_id
    findings = []
    if not enabled:
        findings.append(
            finding(
                "principal.disabled",
                f"the service principal {name} (app {app_id}) is disabled (accountEnabled: false)",
                app_id=app_id,
                object_id=object_id,
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
    summary = "disabled" if findings else f"{name} exists and is enabled"
    return Outcome(summary, findings, evidence)


def _deleted(ctx: Context, app_id: str, evidence: dict[str, Any]) -> Outcome:
    """Graph said (Request_ResourceNotFound) there is no such principal: deleted, restorable or not."""
    deleted = reads.deleted_service_principals(ctx, app_id)
    if deleted:
        item = deleted[0]
        when = item.opt_text("deletedDateTime")
        display_name = item.opt_text("displayName")
        evidence.update(
            deleted_object_id=item.opt_text("id"),
            deleted_at=when,
            display_name=display_name,
            restorable=True,
        )
        message = (
            f"the service principal of app {app_id} ({display_name}) was deleted"
            f"{' on ' + when if when else ''}; "
            "it is still in the directory's deleted items and can be restored"
        )
    else:
        evidence["restorable"] = False
        message = (
            f"no service principal with app id {app_id} exists, and none is in the directory's "
            "deleted items: it cannot be restored, recreate it"
        )
    return Outcome(
        "the principal was deleted",
        [finding("principal.deleted", message, **evidence)],
        evidence,
    )


PRINCIPAL_ENABLED = Check(
    id="principal.enabled",
    title="The identity that reaches the key is enabled",
    run=check_principal,
    causes=("principal.deleted", "principal.disabled", "principal.disabled-by-microsoft"),
    provides=(PRINCIPAL_OBJECT_ID,),
    permissions=("Microsoft Graph Application.Read.All",),
)
