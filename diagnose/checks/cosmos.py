"""cosmos.cmk, cosmos.token, cosmos.dataplane: the account's CMK configuration and status, and a live read."""

from __future__ import annotations

import re

from diagnose.answers import UnexpectedAnswer
from diagnose.azure.keyvault import versionless_key_uri
from diagnose.azure.problems import credential_refused
from diagnose.checks import reads
from diagnose.checks.base import Check, Context, Fact, Outcome, Skip, finding
from diagnose.checks.principal import assigned_identity, parse_default_identity
from diagnose.errors import CredentialRefused, NotPermitted
from diagnose.model import Finding, Severity

# customerManagedKeyStatus is free text (`string` from api-version 2023-11-15 on); the values published
# for 2023-09-15 are the healthy text and "Access to your account is currently revoked because
# <reason>; ... (NNNN)." (Azure/bicep-types-az generated/cosmos-db/microsoft.documentdb/2023-09-15/types.md)
HEALTHY_STATUS = "access to the configured customer managed key confirmed"
REVOKED_TEXT = "access to your account is currently revoked"
REVOKED_CODE = re.compile(r"\((4\d{3})\)")
REVOKED_SUBSTATUS = range(4000, 4100)
DATAPLANE_ROLE_SUBSTATUS = (5301, 5302, 5303)
LOCAL_AUTH_DISABLED = 5202


def revoked_code(status_text: str | None) -> int | None:
    match = REVOKED_CODE.search(status_text or "")
    return int(match.group(1)) if match else None


# The CMK sub-status codes the Cosmos DB SDK publishes, 4000 AadClientCredentialsGrantFailure to
# 4019 MasterServiceUnavailable (Azure/azure-cosmos-dotnet-v3, branch msdata/direct,
# Microsoft.Azure.Cosmos/src/direct/StatusCodes.cs, enum SubStatusCodes; the table with names and
# steps is in runbooks/cosmosdb-auth-errors.md). A later code is cosmos.revoked.other.
KNOWN_REVOKED = range(4000, 4020)
REVOKED_CAUSES = (*(f"cosmos.revoked.{n}" for n in KNOWN_REVOKED), "cosmos.revoked.other")
# 4019: Cosmos DB's own master service was unavailable, nothing in the customer's setup (a warning)
SERVICE_SIDE_REVOKED = (4019,)
COSMOS_SCOPE: Fact[str] = Fact("cosmos.scope", "the scope a data-plane token was issued for")


def revoked_finding(code: int, message: str, /, **evidence: object) -> Finding:
    """One cause per documented sub-status; codes Microsoft adds later fall back to a generic one."""
    suffix = str(code) if code in KNOWN_REVOKED else "other"
    severity = Severity.WARN if code in SERVICE_SIDE_REVOKED else Severity.FAIL
    return finding(f"cosmos.revoked.{suffix}", message, severity, **{"code": code, **evidence})


def _own_topology(ctx: Context) -> None:
    if ctx.profile.topology == "adobe":
        raise Skip(
            "topology adobe: Experience Platform's Cosmos DB accounts are not readable (see adobe.byok)"
        )


def check_cmk(ctx: Context) -> Outcome:
    _own_topology(ctx)
    account = reads.cosmos_account(ctx)
    props = account.obj("properties")
    status_text = props.opt_text("customerManagedKeyStatus")
    key_uri = props.opt_text("keyVaultKeyUri")
    default_identity = props.opt_text("defaultIdentity")
    evidence = {
        "account": account.opt_text("name"),
        "keyVaultKeyUri": key_uri,
        "keyVaultKeyUriVersion": props.opt_text("keyVaultKeyUriVersion"),
        "defaultIdentity": default_identity,
        "customerManagedKeyStatus": status_text,
        "disableLocalAuth": props.opt_flag("disableLocalAuth"),
    }
    findings = []
    if not key_uri:
        findings.append(
            finding("cosmos.cmk-not-configured", "the account has no keyVaultKeyUri", Severity.WARN)
        )
        return Outcome("no customer-managed key", findings, evidence)
    key_id = ctx.profile.key_id
    if key_id and versionless_key_uri(key_uri) != versionless_key_uri(key_id):
        findings.append(
            finding(
                "cosmos.key-mismatch",
                f"the account uses {key_uri}, not the configured key {key_id}",
                keyVaultKeyUri=key_uri,
                key_id=key_id,
            )
        )
    identity = parse_default_identity(default_identity)
    if identity.kind is None:
        findings.append(
            finding(
                "cosmos.identity-undefined",
                f"the default identity {identity.raw or '(empty)'!r} is not a valid identity",
                defaultIdentity=identity.raw,
            )
        )
    elif identity.resource_id:
        held = assigned_identity(account, identity.resource_id)
        client_id = identity.federated_client_id or (held.opt_text("clientId") if held else None)
        if held is None and not identity.federated_client_id:
            findings.append(
                finding(
                    "cosmos.identity-undefined",
                    f"the default identity names {identity.resource_id.rsplit('/', 1)[-1]}, "
                    "which is not among the account's user-assigned identities",
                    defaultIdentity=identity.raw,
                )
            )
        elif (
            client_id  # a record without its clientId says nothing of which app it is
            and ctx.profile.principal_app_id
            and client_id.lower() != ctx.profile.principal_app_id.lower()
        ):
            findings.append(
                finding(
                    "cosmos.identity-mismatch",
                    f"the default identity's app id is {client_id}, the profile checks {ctx.profile.principal_app_id}",
                    Severity.WARN,
                )
            )
    code = revoked_code(status_text)
    findings.extend(_status_findings(status_text, code))
    summary = (
        f"revoked ({code})"
        if code
        else "; ".join(f.message for f in findings) or "the key is confirmed"
    )
    return Outcome(summary, findings, evidence)


def _status_findings(status_text: object, code: int | None) -> list[Finding]:
    """What `customerManagedKeyStatus` says: a coded revocation, an uncoded one, or nothing known.

    The property is free text (an open enum even in 2023-09-15); the values published for
    2023-09-15 (Azure/bicep-types-az generated/cosmos-db/microsoft.documentdb/2023-09-15/types.md)
    include "Access to your account is currently revoked; for more details ..." without a code
    (docs/research/published-behaviour.md, section 1).
    Only the healthy text confirms the key; anything else is never read as "confirmed".
    """
    if code is not None:
        reason = str(status_text).split("; for more details")[0].rstrip(". ")
        return [revoked_finding(code, f"customerManagedKeyStatus ({code}): {reason}")]
    text = status_text if isinstance(status_text, str) else ""
    if REVOKED_TEXT in text.lower():
        reason = text.split("; for more details")[0].rstrip(". ")
        return [
            finding(
                "cosmos.revoked",
                f"customerManagedKeyStatus says the account is revoked, without a (NNNN) code: {reason}",
                status=text,
            )
        ]
    if HEALTHY_STATUS in text.lower():
        return []
    shown = repr(text[:200]) if text else "absent"
    return [
        finding(
            "cosmos.cmk-status-unknown",
            f"customerManagedKeyStatus is {shown}: the tool cannot confirm that the account "
            "reaches its key (neither the healthy text nor a revocation)",
            Severity.WARN,
            status=status_text,
        )
    ]


def _scope(ctx: Context) -> str:
    scope = ctx.profile.cosmos_token_scope
    if not scope:
        raise Skip("no Cosmos DB endpoint configured (cosmos_endpoint)")
    return scope


FALLBACK_SCOPE = "https://cosmos.azure.com/.default"  # what the SDK falls back to on AADSTS500011


def check_token(ctx: Context) -> Outcome:
    _own_topology(ctx)
    scope = _scope(ctx)
    from azure.core.exceptions import ClientAuthenticationError

    try:
        token = ctx.credential.get_token(scope)
    except ClientAuthenticationError as exc:
        refused = credential_refused(exc)
        if "AADSTS500011" not in refused.reason or ctx.profile.cosmos_scope:
            raise refused from None
        try:  # the account's own audience is not registered in the tenant: the SDK's fallback
            scope, token = FALLBACK_SCOPE, ctx.credential.get_token(FALLBACK_SCOPE)
        except ClientAuthenticationError as again:
            raise credential_refused(again) from None
    ctx.set_fact(COSMOS_SCOPE, scope)
    return Outcome(
        f"a token for {scope} was issued", [], {"scope": scope, "expires_on": token.expires_on}
    )


def check_dataplane(ctx: Context) -> Outcome:
    from diagnose.azure import cosmos

    _own_topology(ctx)
    scope = ctx.fact(COSMOS_SCOPE, "no data-plane token (see cosmos.token)")
    endpoint = ctx.require("cosmos_endpoint", "Cosmos DB endpoint")
    try:
        read = cosmos.read(ctx.profile, ctx.credential, endpoint, scope=scope)
    except cosmos.CosmosRefusal as refusal:
        unexplained = refusal.unexplained()  # no evidence: a throttle, a 5xx, a gateway's page
        if unexplained is not None:
            raise unexplained from None
        evidence = refusal.evidence()
        sub = refusal.sub_status or 0
        # A revoked account's 403: the body says only "Request is blocked due to Customer Managed
        # Key not being accessible." and the reason is the x-ms-substatus header (Microsoft's
        # "Cross Tenant CMK Troubleshooting Guide" 2.1, https://learn.microsoft.com/azure/cosmos-db/troubleshoot-cmk;
        # the codes: StatusCodes.cs above).
        if refusal.status == 403 and sub in REVOKED_SUBSTATUS:
            return Outcome(
                f"403/{sub}: the account is revoked",
                [
                    revoked_finding(
                        sub, f"the data plane answered 403/{sub}: {refusal.message}", **evidence
                    )
                ],
                evidence,
            )
        if refusal.status == 403 and sub in DATAPLANE_ROLE_SUBSTATUS:
            raise NotPermitted(
                f"the Cosmos DB data plane refused the diagnosing identity (403/{sub})",
                "Cosmos DB Built-in Data Reader (sqlRoleAssignment) for the diagnosing identity",
            ) from None
        if refusal.status == 403 and "customer managed key" in refusal.message.lower():
            message = f"the data plane answered 403: {refusal.message}"
            return Outcome(
                "403: the account is revoked",
                [finding("cosmos.revoked", message, **evidence)],
                evidence,
            )
        if refusal.status == 401 and sub == LOCAL_AUTH_DISABLED:
            message = f"401/{sub}: {refusal.message}"
            return Outcome(
                message, [finding("cosmos.dataplane-unauthorized", message, **evidence)], evidence
            )
        if refusal.status == 401:  # our own token: expired, wrong audience (a bad cosmos_scope)...
            raise CredentialRefused(
                f"the Cosmos DB data plane did not accept the tool's token (401/{sub})"
            ) from None
        if refusal.status == 403:  # e.g. the account's firewall does not admit this machine
            raise NotPermitted(
                f"the Cosmos DB data plane refused the diagnosing identity (403/{sub}): {refusal.message[:200]}",
                "network access to the account and a data-plane role for the diagnosing identity",
            ) from None
        raise UnexpectedAnswer(
            f"the Cosmos DB data plane answered {refusal.status}/{sub} ({refusal.code}): "
            f"{refusal.message[:200]}"
        ) from None
    evidence = {
        "endpoint": endpoint,
        "databases": read.databases,
        "writableLocations": read.writable_locations,
    }
    return Outcome(
        f"account read and database listing succeeded ({len(read.databases)} database(s))",
        [],
        evidence,
    )


COSMOS_CMK = Check(
    id="cosmos.cmk",
    title="The account's key, default identity and customerManagedKeyStatus",
    run=check_cmk,
    causes=(
        "cosmos.cmk-not-configured",
        "cosmos.key-mismatch",
        "cosmos.identity-undefined",
        "cosmos.identity-mismatch",
        "cosmos.cmk-status-unknown",
        *REVOKED_CAUSES,
        "cosmos.revoked",
    ),
    permissions=("Reader on the Cosmos DB account",),
    topologies=("own",),
)
COSMOS_TOKEN = Check(
    id="cosmos.token",
    title="An Entra token for the account's data plane can be acquired",
    run=check_token,
    provides=(COSMOS_SCOPE,),
    permissions=("none beyond a working credential",),
    topologies=("own",),
)
COSMOS_DATAPLANE = Check(
    id="cosmos.dataplane",
    title="The account's data plane answers a read",
    run=check_dataplane,
    causes=(*REVOKED_CAUSES, "cosmos.revoked", "cosmos.dataplane-unauthorized"),
    needs=("cosmos.token",),
    consumes=(COSMOS_SCOPE,),
    permissions=("Cosmos DB Built-in Data Reader (sqlRoleAssignment) on the account",),
    topologies=("own",),
)
