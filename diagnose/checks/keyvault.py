"""keyvault.vault, keyvault.key, keyvault.unwrap: the vault's protections, the key's state, a live round trip."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from diagnose.answers import Fields, UnexpectedAnswer
from diagnose.checks import reads
from diagnose.checks.base import Check, Context, Fact, Outcome, Skip, finding
from diagnose.errors import CredentialRefused, NotPermitted, Unreachable
from diagnose.model import Severity

if TYPE_CHECKING:
    from diagnose.azure.keyvault import DataPlaneKey, KeyVaultProbe, KeyVaultRefusal

RECOMMENDED_KEY_BITS = 3072
KEY_USABLE: Fact[bool] = Fact("key.usable", "keyvault.key found no failing problem with the key")


def check_vault(ctx: Context) -> Outcome:
    # The vault's properties as the specification gives them (Azure/azure-rest-api-specs
    # specification/keyvault/resource-manager/Microsoft.KeyVault/KeyVault/stable/2023-07-01/keyvault.json);
    # trusted services pass the firewall only with bypass AzureServices
    # (https://learn.microsoft.com/azure/cosmos-db/troubleshoot-cmk, 1.1: "bypass is set to None").
    vault = reads.vault(ctx)
    props = vault.obj("properties")
    acls = props.obj_or_empty("networkAcls")
    default_action, bypass = acls.opt_text("defaultAction"), acls.opt_text("bypass")
    soft_delete, purge_protection = (
        props.opt_flag("enableSoftDelete"),
        props.opt_flag("enablePurgeProtection"),
    )
    public_access = props.opt_text("publicNetworkAccess")
    network: dict[str, Any] = {"defaultAction": default_action, "bypass": bypass}
    evidence = {
        "name": vault.opt_text("name"),
        "enableSoftDelete": soft_delete,
        "enablePurgeProtection": purge_protection,
        "enableRbacAuthorization": props.opt_flag("enableRbacAuthorization"),
        "publicNetworkAccess": public_access,
        "networkAcls": network,
    }
    findings = []
    if soft_delete is False:
        findings.append(finding("keyvault.soft-delete-off", "soft delete is off on the vault"))
    if not purge_protection:  # ARM omits it when it was never set: that is off
        findings.append(
            finding(
                "keyvault.purge-protection-off",
                "purge protection is off on the vault (Cosmos DB requires it)",
            )
        )
    denies = (default_action or "Allow").lower() == "deny"
    bypass = bypass or "None"
    if (public_access or "Enabled").lower() == "disabled" and "azureservices" not in bypass.lower():
        findings.append(
            finding(
                "keyvault.firewall-blocks-trusted-services",
                "public network access is disabled and trusted Azure services may not bypass the firewall",
                **network,
            )
        )
    elif denies and "azureservices" not in bypass.lower():
        findings.append(
            finding(
                "keyvault.firewall-blocks-trusted-services",
                f"the firewall denies by default and bypass is {bypass!r}, not 'AzureServices': "
                "Cosmos DB cannot reach the key",
                **network,
            )
        )
    summary = (
        "; ".join(f.message for f in findings)
        if findings
        else "soft delete, purge protection and network rules are right"
    )
    return Outcome(summary, findings, evidence)


def _epoch(fields: Fields, name: str) -> datetime | None:
    """An attribute in epoch seconds (ARM and Key Vault both say so); another type is malformed."""
    value = fields.opt_number(name)
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise fields.malformed(name, f"is not a time ({value!r})") from None


# Reading a key through ARM is authorized as the Key Vault data action keys/read. The built-in
# roles that hold it (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security):
# Key Vault Reader (dataActions Microsoft.KeyVault/vaults/*/read), Key Vault Crypto User and
# Key Vault Crypto Officer; plain Reader has no data actions and is not enough on an RBAC vault.
KEY_READ_RIGHT = (
    "Key Vault Reader (or Key Vault Crypto User) on the key or vault: the data action "
    "Microsoft.KeyVault/vaults/keys/read; on an access-policy vault, the key permission get"
)


def check_key(ctx: Context) -> Outcome:
    vault_id = ctx.require("keyvault_id", "Key Vault resource id")
    name = reads.key_name(ctx)
    reply = reads.arm_get(
        ctx, f"{vault_id.rstrip('/')}/keys/{name}", "key", f"the key {name}", KEY_READ_RIGHT
    )
    if reply.status == 400 and reply.error_code == "ForbiddenByRbac":
        # ARM reads a key with the caller's Key Vault data-plane right and answers a denial with
        # HTTP 400, top-level error.code ForbiddenByRbac, as real tenants got it
        # (https://github.com/Azure/bicep/issues/6539, https://github.com/pulumi/pulumi-azure-native/issues/890;
        # docs/research/published-behaviour.md, section 2): the diagnosing identity's limit.
        raise NotPermitted(
            f"Azure Resource Manager refused to let the diagnosing identity read the key {name} "
            "(400 ForbiddenByRbac: the read is a Key Vault data-plane action, "
            "Microsoft.KeyVault/vaults/keys/read)",
            KEY_READ_RIGHT,
        )
    found = reply.resource(f"the key {name}", reads.ARM_NOT_FOUND)
    if found is None:  # ARM said so, in its own error code
        return Outcome(
            "the key does not exist",
            [finding("key.not-found", f"the key {name} does not exist in the vault", key=name)],
            {"key": name},
        )
    props = found.obj("properties")
    attrs = props.obj("attributes")
    now = ctx.options.now
    nbf, exp = _epoch(attrs, "nbf"), _epoch(attrs, "exp")
    enabled = attrs.opt_flag("enabled")
    ops = props.opt_texts("keyOps")
    kty = props.opt_text("kty") or ""
    size = props.opt_number("keySize")
    evidence = {
        "key": name,
        "keyUriWithVersion": props.opt_text("keyUriWithVersion"),
        "enabled": enabled,
        "nbf": nbf.isoformat() if nbf else None,
        "exp": exp.isoformat() if exp else None,
        "kty": kty or None,
        "keySize": size,
        "keyOps": ops,
    }
    findings = []
    if enabled is False:
        findings.append(finding("key.disabled", f"the key {name} is disabled", key=name))
    if exp and exp <= now:
        findings.append(
            finding(
                "key.expired",
                f"the key {name} expired on {exp:%Y-%m-%d %H:%M} UTC",
                exp=evidence["exp"],
            )
        )
    if nbf and nbf > now:
        findings.append(
            finding(
                "key.not-yet-valid",
                f"the key {name} is not valid before {nbf:%Y-%m-%d %H:%M} UTC",
                nbf=evidence["nbf"],
            )
        )
    if kty and not kty.upper().startswith("RSA"):
        findings.append(finding("key.type-unsupported", f"the key is {kty}, not RSA", kty=kty))
    lowered = {o.lower() for o in ops}
    if ops and not {"wrapkey", "unwrapkey"} <= lowered:
        findings.append(
            finding(
                "key.operations-missing",
                f"the key allows {', '.join(ops)}: wrapKey and unwrapKey are needed",
                keyOps=ops,
            )
        )
    if size is not None and size < RECOMMENDED_KEY_BITS and kty.upper().startswith("RSA"):
        findings.append(
            finding(
                "key.size-small",
                f"the key has {size:g} bits; {RECOMMENDED_KEY_BITS} or more are recommended",
                Severity.WARN,
                keySize=size,
            )
        )
    if not any(f.severity is Severity.FAIL for f in findings):
        ctx.set_fact(KEY_USABLE, True)
    summary = (
        "; ".join(f.message for f in findings)
        if findings
        else f"{name} is enabled, valid, RSA {size or ''}".rstrip()
    )
    return Outcome(summary, findings, evidence)


def keyvault_probe(ctx: Context) -> KeyVaultProbe:
    from diagnose.azure.keyvault import KeyRef, KeyVaultProbe

    def build() -> KeyVaultProbe:
        try:
            key_ref = KeyRef.parse(ctx.require("key_id", "key URI"))
        except ValueError as exc:
            raise Skip(str(exc)) from None
        return KeyVaultProbe(ctx.profile, ctx.credential, key_ref)

    return ctx.memo("keyvault:probe", build)


def data_plane_key(ctx: Context) -> DataPlaneKey:
    """The key read on the data plane, once per run (keyvault.unwrap starts it early)."""
    return ctx.memo("keyvault:get_key", lambda: keyvault_probe(ctx).get_key())


def prewarm_data_plane_key(ctx: Context) -> None:
    """The Key Vault challenge and key read, overlapping with the ARM reads keyvault.unwrap waits for."""
    if ctx.profile.key_id:
        data_plane_key(ctx)


# Key states the data plane reports (the ARM attributes keyvault.key read may lag behind), in Key
# Vault's published words ("Operation ... is not allowed on a disabled key", "... is not permitted
# on this key": docs/research/published-behaviour.md section 4). A key outside its nbf/exp window
# is not one of them: the unwrap is not refused there (about-keys-details), keyvault.key says it.
KEY_STATE_CODES = {
    "KeyDisabled": "key.disabled",
    "KeyOperationForbidden": "key.operations-missing",
}


def _refused_round_trip(name: str, refusal: KeyVaultRefusal) -> Outcome:
    """A customer finding only when Key Vault says something about the key; else the tool's limit."""
    inner = refusal.inner_code or ""
    evidence = refusal.evidence()
    if refusal.status == 401:
        raise CredentialRefused(
            f"Key Vault did not accept the tool's token ({refusal.code or 401})"
        )
    if inner == "ForbiddenByFirewall":
        raise Unreachable(
            "the vault's firewall does not admit the address the tool runs from (ForbiddenByFirewall)"
        )
    if inner in KEY_STATE_CODES:
        code = KEY_STATE_CODES[inner]
        return Outcome(
            refusal.message, [finding(code, f"Key Vault: {refusal.message}", **evidence)], evidence
        )
    if refusal.status == 404 and refusal.code != "KeyNotFound":
        raise UnexpectedAnswer(
            f"Key Vault answered 404 for {name} with {refusal.code}, not KeyNotFound: {refusal.message[:200]}"
        )
    if refusal.status == 404:
        message = f"Key Vault answered 404 ({refusal.code}) for {name}: {refusal.message}"
        return Outcome(
            "the key was not found on the data plane",
            [finding("key.not-found", message, **evidence)],
            evidence,
        )
    if refusal.status == 403:
        raise NotPermitted(
            f"Key Vault refused the diagnosing identity ({inner or refusal.code or 403}); "
            "the live round trip needs its own rights",
            "Key Vault Crypto User on the key or vault (or an access policy get/wrapKey/unwrapKey)",
        )
    # Key Vault's own refusal, in its error shape, of a request that is not throttled or failing
    message = (
        f"Key Vault refused the round trip ({refusal.status} {refusal.code}): {refusal.message}"
    )
    return Outcome(
        "the round trip failed", [finding("keyvault.unwrap-failed", message, **evidence)], evidence
    )


def check_unwrap(ctx: Context) -> Outcome:
    """Wrap here with the key's public key, unwrap in the vault: what Cosmos DB does with its key.

    Key Vault keeps unwrapping outside a key's nbf/exp window and refuses a remote wrap there
    (https://learn.microsoft.com/azure/key-vault/keys/about-keys-details#key-attributes), so a
    remote wrap would test something Cosmos DB does not need of an existing key; the expiry
    itself is keyvault.key's finding, read from the key's attributes.
    """
    from diagnose.azure.keyvault import WRAP_ALGORITHM, KeyVaultRefusal, local_wrap

    ctx.fact(KEY_USABLE, "the key is not usable (see keyvault.key)")
    probe = keyvault_probe(ctx)
    key_ref = probe.key
    try:
        key = data_plane_key(ctx)
        secret = os.urandom(32)
        wrapped = local_wrap(key, secret)
        unwrapped = probe.unwrap(key.version, wrapped)
    except KeyVaultRefusal as refusal:
        return _refused_round_trip(key_ref.name, refusal)
    version = key.version
    evidence = {
        "key_version": version,
        "wrap": f"local (the key's public key, {WRAP_ALGORITHM})",
        "unwrap": "remote (unwrapkey)",
        "bytes": len(secret),
        # the round trip proves the diagnosing identity's rights, not Cosmos DB's: said on its line
        "ran_as": "the diagnosing identity, not Cosmos DB's",
    }
    if unwrapped != secret:
        return Outcome(
            "the unwrapped key differs",
            [
                finding(
                    "keyvault.unwrap-failed",
                    "unwrap returned different bytes than were wrapped",
                    **evidence,
                )
            ],
            evidence,
        )
    return Outcome(
        f"local wrap and remote unwrap round trip succeeded (version {(version or 'latest')[:8]}…)",
        [],
        evidence,
    )


KEYVAULT_VAULT = Check(
    id="keyvault.vault",
    title="The vault keeps soft delete, purge protection and lets trusted services in",
    run=check_vault,
    causes=(
        "keyvault.soft-delete-off",
        "keyvault.purge-protection-off",
        "keyvault.firewall-blocks-trusted-services",
    ),
    permissions=("Reader on the vault",),
)
KEYVAULT_KEY = Check(
    id="keyvault.key",
    title="The key exists, is enabled, valid and allows wrap/unwrap",
    run=check_key,
    causes=(
        "key.not-found",
        "key.disabled",
        "key.expired",
        "key.not-yet-valid",
        "key.type-unsupported",
        "key.operations-missing",
        "key.size-small",
    ),
    provides=(KEY_USABLE,),
    permissions=(KEY_READ_RIGHT,),
)
KEYVAULT_UNWRAP = Check(
    id="keyvault.unwrap",
    title="A live wrap and unwrap round trip with the key works",
    run=check_unwrap,
    causes=(*KEY_STATE_CODES.values(), "key.not-found", "keyvault.unwrap-failed"),
    needs=("keyvault.key",),
    consumes=(KEY_USABLE,),
    prewarm=(prewarm_data_plane_key,),
    # Reads the key (its version and public key: keys/read, which Key Vault Reader holds through
    # its data action Microsoft.KeyVault/vaults/*/read); proves with unwrapKey, which no reader
    # role holds. The narrowest built-in role with it is Key Vault Crypto Service Encryption User
    # (data actions keys/read, keys/wrap/action, keys/unwrap/action): Microsoft's built-in roles,
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security
    permissions=(KEY_READ_RIGHT,),
    prove_permissions=(
        "Key Vault Crypto Service Encryption User (or Key Vault Crypto User) on the key or vault: "
        "the data action Microsoft.KeyVault/vaults/keys/unwrap/action; on an access-policy "
        "vault, the key permission unwrapKey",
    ),
)
