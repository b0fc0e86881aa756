"""What the profile leaves out and the live setup names: read once, before the checks run.

The Cosmos DB account knows its key (`keyVaultKeyUri`), hence the vault's URL and name,
and its data-plane endpoint (`documentEndpoint`); the vault's ARM id is found where the
account lives (its resource group), else in the subscription's list of vaults. A value
the profile sets always wins; a value derived here carries its origin as its source
(`profile show`, the report's profile). Reads go through the checks' own memoized reads
(`checks/reads.py`), so the checks that read the same resources later do not read them
again. Nothing here judges: a read that fails derives nothing, and the checks report it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from diagnose.checks.base import Context
from diagnose.profile import Profile, is_key_uri

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

log = logging.getLogger("diagnose.derive")

FROM_KEY_URI = "derived from the Cosmos DB account's keyVaultKeyUri"
FROM_ENDPOINT = "derived from the Cosmos DB account's documentEndpoint"
FROM_IDENTITY = "derived from the Cosmos DB account's defaultIdentity"
VAULT_LIST_API = "2023-07-01"


@dataclass
class Derived:
    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what could not be derived, and why

    def add(self, key: str, value: str, source: str) -> None:
        self.values[key] = value
        self.sources[key] = source
        log.info("%s = %s (%s)", key, value, source)


WANTED = ("key_id", "keyvault_url", "keyvault_id", "cosmos_endpoint")


def needed(profile: Profile, *, principal: bool = False) -> bool:
    """Whether the profile lacks something the account can name (and names the account); with
    `principal`, the default identity's app id counts too."""
    wanted = (*WANTED, "principal_app_id") if principal else WANTED
    return (
        profile.topology == "own"
        and bool(profile.cosmos_id)
        and any(not profile.get(k) for k in wanted)
    )


def from_account(ctx: Context, *, principal: bool = False) -> Derived:
    """Read the account (and the vault's ARM id) and derive what the profile lacks.

    With `principal`, also the app id of the account's default identity (`profile init`).
    """
    from diagnose.checks import reads

    derived = Derived()
    profile = ctx.profile
    try:
        account = reads.cosmos_account(ctx)
    except Exception as exc:  # noqa: BLE001 - the checks say why the account cannot be read
        derived.notes.append(f"the Cosmos DB account could not be read: {exc}")
        return derived
    # derive only from well-formed values; checks judge the rest
    found = account.raw.get("properties")
    props: dict[str, Any] = found if isinstance(found, dict) else {}
    uri = props.get("keyVaultKeyUri")
    if isinstance(uri, str) and uri.startswith("https://"):
        if is_key_uri(uri):
            _from_key_uri(ctx, uri, derived)
        else:
            derived.notes.append(
                f"the account's keyVaultKeyUri {uri[:200]!r} is not a key URI: "
                "set key_id and keyvault_id"
            )
    elif not profile.key_id:
        derived.notes.append("the account has no keyVaultKeyUri: set key_id and keyvault_id")
    endpoint = props.get("documentEndpoint")
    if (
        not profile.cosmos_endpoint
        and isinstance(endpoint, str)
        and endpoint.startswith("https://")
    ):
        derived.add("cosmos_endpoint", endpoint, FROM_ENDPOINT)
    if principal and not profile.principal_app_id:
        _principal(ctx, derived)
    return derived


def _from_key_uri(ctx: Context, uri: str, derived: Derived) -> None:
    """The key, the vault's URL and the vault's ARM id the account's key URI names."""
    profile = ctx.profile
    host = urlsplit(uri).netloc.lower()
    if not profile.key_id:
        derived.add("key_id", uri, FROM_KEY_URI)
    if not profile.keyvault_url and host:
        derived.add("keyvault_url", f"https://{host}/", FROM_KEY_URI)
    if not profile.keyvault_id and host:
        vault_id = _vault_id(ctx, _vault_name(host), host)
        if vault_id:
            derived.add("keyvault_id", vault_id, FROM_KEY_URI)
        else:
            derived.notes.append(
                f"the vault {host} was found neither in the account's resource group nor "
                "in the subscription's vaults: set keyvault_id"
            )


def _vault_id(ctx: Context, name: str, host: str) -> str | None:
    """The vault's ARM id: in the account's resource group, else in the subscription's list."""
    from diagnose.checks import reads

    parts = (ctx.profile.cosmos_id or "").split("/")
    if len(parts) < 5:
        return None
    subscription, group = parts[2], parts[4]
    candidate = (
        f"/subscriptions/{subscription}/resourceGroups/{group}"
        f"/providers/Microsoft.KeyVault/vaults/{name}"
    )
    try:
        reply = reads.arm_get(ctx, candidate, "vault", "the vault")
        if reply.status == 200 and _same_vault(reply.body, host):
            return candidate
        listing = reads.arm_list(
            ctx,
            f"/subscriptions/{subscription}/providers/Microsoft.KeyVault/vaults",
            {"api-version": VAULT_LIST_API},
            "the subscription's vaults",
            reads.READER,
        )
    except Exception:  # noqa: BLE001 - the vault checks say why the vault cannot be read
        return None
    for vault in listing:
        if _same_vault(vault.raw, host) and vault.raw.get("id"):
            return str(vault.raw["id"])
    return None


def _vault_name(host: str) -> str:
    """The vault name a vault host names: its first DNS label (`kv-ajo.vault.azure.net:443`)."""
    return host.split(".")[0].split(":")[0].lower()


def _same_vault(body: object, host: str) -> bool:
    """Whether an ARM vault body is the vault at `host`: by its `vaultUri`, or without one by
    its `name` against the host's first label (case-insensitive)."""
    if not isinstance(body, dict):
        return False
    props = body.get("properties")
    uri = props.get("vaultUri") if isinstance(props, dict) else None
    if isinstance(uri, str) and uri:
        return urlsplit(uri).netloc.lower() == host
    name = body.get("name")
    return isinstance(name, str) and name.lower() == _vault_name(host)


def _principal(ctx: Context, derived: Derived) -> None:
    from diagnose.checks.principal import resolve_app_id

    try:
        app_id, _source = resolve_app_id(ctx)
    except Exception as exc:  # noqa: BLE001 - principal.enabled says why
        derived.notes.append(f"the default identity's app id could not be read: {exc}")
        return
    derived.add("principal_app_id", app_id, FROM_IDENTITY)


def with_values(profile: Profile, derived: Derived) -> Profile:
    """A copy of `profile` with the derived values (the profile's own always win)."""
    values = {**derived.values, **profile.values}
    sources = {**derived.sources, **profile.sources}
    return Profile(profile.name, values, sources, dict(profile.credentials), profile.path)


def for_profile(
    profile: Profile, credential: TokenCredential | None = None, *, principal: bool = False
) -> tuple[Profile, Derived]:
    """`profile` plus what its account names and it leaves out, for a command that runs no
    checks (`profile init`, `timeline`), through a check context of its own (`credential`: tokens
    the command holds already); and what was derived, with why the rest was not."""
    from diagnose.checks.base import RunOptions

    if not needed(profile, principal=principal):
        return profile, Derived()
    ctx = Context(profile, RunOptions())
    if credential is not None:
        ctx.memo("client:credential", lambda: credential)
    found = from_account(ctx, principal=principal)
    return with_values(profile, found), found


def complete(ctx: Context) -> Profile:
    """The run's profile: the given one, plus what the account names when the profile lacks it."""
    if not needed(ctx.profile):
        return ctx.profile
    return with_values(ctx.profile, from_account(ctx))
