"""The profile: which tenant, vault, key, Cosmos account and campaign to check, and how to reach them.

Sources, highest first: command-line flags > `DIAGNOSE_*` variables > the
standard `AZURE_*` / `REQUESTS_CA_BUNDLE` variables > the profile file
(`diagnose.toml` or `--config`, table `[profile.NAME]`) > built-in defaults.
The file holds identifiers only; secrets come from the environment or the
Azure credential chain.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Never, Self, overload
from urllib.parse import urlsplit

from diagnose.errors import InputError
from diagnose.files import TooLarge, read_limited


class Key:
    """One profile key, declared once on `Profile`: its variables and help; reads as `str | None`.

    `variables` lists `DIAGNOSE_*` first, then the standard variable, if any (the first set wins).
    `name` is the key in the file and in reports; it is the attribute's name unless given.
    """

    default: str | None = None

    def __init__(self, variables: tuple[str, ...], help: str, *, name: str = "") -> None:
        self.variables = variables
        self.help = help
        self.name = name

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.name = self.name or attribute

    @overload
    def __get__(self, profile: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, profile: Profile, owner: type | None = None) -> str | None: ...
    def __get__(self, profile: Profile | None, owner: type | None = None) -> Self | str | None:
        if profile is None:
            return self
        return profile.values.get(self.name, self.default)

    def __set__(self, profile: Profile, value: Never) -> None:  # Never: mypy refuses assignments
        raise AttributeError(f"{self.name}: a profile's values come from its layers (load())")


class DefaultedKey(Key):
    """A key with a built-in default: reads as `str`."""

    def __init__(
        self, variables: tuple[str, ...], help: str, default: str, *, name: str = ""
    ) -> None:
        super().__init__(variables, help, name=name)
        self.default: str = default

    @overload
    def __get__(self, profile: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, profile: Profile, owner: type | None = None) -> str: ...
    def __get__(self, profile: Profile | None, owner: type | None = None) -> Self | str:
        if profile is None:
            return self
        return profile.values.get(self.name, self.default)


# Credentials: only ever from the environment, never from the file, never printed.
CREDENTIAL_VARIABLES = (
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "DIAGNOSE_ADOBE_CLIENT_ID",
    "DIAGNOSE_ADOBE_CLIENT_SECRET",
    "DIAGNOSE_ADOBE_SCOPES",
)

CHOICES = {
    "cloud": ("AzureCloud", "AzureChinaCloud", "AzureUSGovernment", "custom"),
    "topology": ("own", "adobe"),
    "execution_kind": ("unitary", "highthroughput", "audience"),
}


@dataclass(frozen=True)
class Cloud:
    name: str
    authority: str
    arm_url: str
    graph_url: str
    keyvault_suffix: str
    cosmos_suffix: str
    first_party_cosmos_app_id: str = "a232010e-820c-4083-83bb-3ace5fc29d0b"


CLOUDS = {
    "AzureCloud": Cloud(
        "AzureCloud",
        "https://login.microsoftonline.com",
        "https://management.azure.com",
        "https://graph.microsoft.com",
        "vault.azure.net",
        "documents.azure.com",
    ),
    "AzureChinaCloud": Cloud(
        "AzureChinaCloud",
        "https://login.chinacloudapi.cn",
        "https://management.chinacloudapi.cn",
        "https://microsoftgraph.chinacloudapi.cn",
        "vault.azure.cn",
        "documents.azure.cn",
    ),
    "AzureUSGovernment": Cloud(
        "AzureUSGovernment",
        "https://login.microsoftonline.us",
        "https://management.usgovcloudapi.net",
        "https://graph.microsoft.us",
        "vault.usgovcloudapi.net",
        "documents.azure.us",
        "57506a73-e302-42a9-b869-6f12d9ec29e9",
    ),
}


@dataclass
class Profile:
    """The effective profile: every key a typed attribute; `values` and `sources` for reports.

    `values` holds the keys that are set (identifiers only), `sources` where each came from;
    `path` is the profile file whose table the run read (None without one).
    """

    name: str
    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)  # from the environment only
    path: Path | None = None

    cloud_name = DefaultedKey(
        ("DIAGNOSE_CLOUD",),
        "AzureCloud, AzureChinaCloud, AzureUSGovernment or custom",
        "AzureCloud",
        name="cloud",  # `cloud` is the resolved `Cloud` below
    )
    authority = Key(("AZURE_AUTHORITY_HOST",), "Entra ID host (custom clouds)")
    arm_url = Key(("DIAGNOSE_ARM_URL",), "Azure Resource Manager URL (custom clouds)")
    graph_url = Key(("DIAGNOSE_GRAPH_URL",), "Microsoft Graph URL (custom clouds)")
    ca_bundle = Key(
        ("DIAGNOSE_CA_BUNDLE", "REQUESTS_CA_BUNDLE"), "CA bundle for every TLS connection"
    )
    tenant_id = Key(("AZURE_TENANT_ID",), "Entra ID tenant")
    subscription_id = Key(("DIAGNOSE_SUBSCRIPTION_ID",), "subscription")
    topology = DefaultedKey(
        ("DIAGNOSE_TOPOLOGY",),
        "own (you run the Cosmos DB account) or adobe (Experience Platform's)",
        "own",
    )
    principal_app_id = Key(
        ("DIAGNOSE_PRINCIPAL_APP_ID",), "app id of the identity that reaches the key"
    )
    keyvault_id = Key(("DIAGNOSE_KEYVAULT_ID",), "the vault's ARM id")
    keyvault_url = Key(("DIAGNOSE_KEYVAULT_URL",), "the vault's URL")
    key_id = Key(("DIAGNOSE_KEY_ID",), "the key's URI")
    cosmos_id = Key(("DIAGNOSE_COSMOS_ID",), "the Cosmos DB account's ARM id")
    cosmos_endpoint = Key(("DIAGNOSE_COSMOS_ENDPOINT",), "the Cosmos DB data-plane URL")
    cosmos_scope = Key(
        ("DIAGNOSE_COSMOS_SCOPE",), "token scope override (default https://<host>/.default)"
    )
    cosmos_caller = Key(
        ("DIAGNOSE_COSMOS_CALLER_APP_ID",),
        "app id of the application that reads Cosmos DB in production",
    )
    ims_url = DefaultedKey(("DIAGNOSE_IMS_URL",), "Adobe IMS", "https://ims-na1.adobelogin.com")
    platform_url = DefaultedKey(
        ("DIAGNOSE_PLATFORM_URL",), "Adobe Experience Platform", "https://platform.adobe.io"
    )
    ims_org = Key(("DIAGNOSE_IMS_ORG",), "IMS organization id")
    sandbox = Key(("DIAGNOSE_SANDBOX",), "Experience Platform sandbox name")
    campaign_id = Key(("DIAGNOSE_CAMPAIGN_ID",), "the API-triggered campaign")
    execution_kind = Key(("DIAGNOSE_EXECUTION_KIND",), "unitary, highthroughput or audience")
    payload = Key(("DIAGNOSE_PAYLOAD",), "a file holding the campaign's payload or cURL request")
    byok_config = Key(("DIAGNOSE_BYOK_CONFIG",), "the BYOK configuration name (topology adobe)")
    workspace_id = Key(
        ("DIAGNOSE_WORKSPACE_ID",),
        "Log Analytics workspace (GUID) with the Key Vault and Cosmos DB logs",
    )
    loganalytics_url = Key(
        ("DIAGNOSE_LOGANALYTICS_URL",), "Log Analytics query API (default: the cloud's own)"
    )

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    @property
    def cloud(self) -> Cloud:
        base = CLOUDS.get(self.cloud_name)
        if base is None:  # custom: every endpoint comes from the profile
            return Cloud(
                "custom", self.authority or "", self.arm_url or "", self.graph_url or "", "", ""
            )
        return Cloud(
            base.name,
            self.authority or base.authority,
            self.arm_url or base.arm_url,
            self.graph_url or base.graph_url,
            base.keyvault_suffix,
            base.cosmos_suffix,
            base.first_party_cosmos_app_id,
        )

    @property
    def is_custom_cloud(self) -> bool:
        return self.cloud_name == "custom"

    @property
    def cosmos_token_scope(self) -> str | None:
        if self.cosmos_scope:
            return self.cosmos_scope
        if not self.cosmos_endpoint:
            return None
        return f"https://{urlsplit(self.cosmos_endpoint).hostname}/.default"

    def public(self) -> dict[str, str]:
        """Identifiers only, safe for any report (secrets are never in `values`)."""
        return dict(sorted(self.values.items()))


# Every key, in declaration order (the order of `profile show` and of the starter file).
KEYS: tuple[Key, ...] = tuple(v for v in vars(Profile).values() if isinstance(v, Key))
KEY_NAMES = frozenset(k.name for k in KEYS)


MAX_PROFILE_BYTES = 1024 * 1024  # a profile holds identifiers: 1 MB is far beyond any real one


def _parse_toml(path: Path) -> dict[str, object]:
    """The file's TOML document; InputError for what cannot be read (never past 1 MB)."""
    try:
        raw = read_limited(path, MAX_PROFILE_BYTES, f"profile file {path}")
        return tomllib.loads(raw.decode("utf-8"))
    except TooLarge as exc:
        raise InputError(str(exc)) from None
    except OSError as exc:
        raise InputError(f"cannot read profile file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"profile file {path} is not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per level of nesting
        raise InputError(f"{path}: not valid TOML: it nests too deeply to read") from None


def _read_file(path: Path, name: str, explicit: bool) -> tuple[dict[str, str], str]:
    if not path.exists():
        if explicit:
            raise InputError(f"profile file {path} does not exist")
        return {}, ""
    data = _parse_toml(path)
    profiles = data.get("profile", {})
    if not isinstance(profiles, dict):
        raise InputError(f"{path}: `profile` must hold [profile.NAME] tables")
    table = profiles.get(name)
    if table is None:
        if explicit or profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise InputError(f"{path}: no [profile.{name}] table (profiles: {known})")
        return {}, ""
    if not isinstance(table, dict):
        raise InputError(
            f'{path}: profile.{name} must be a table ([profile.{name}] with key = "value" lines)'
        )
    values: dict[str, str] = {}
    for key, value in table.items():
        if key in ("client_secret", "secret", "password", "adobe_client_secret"):
            raise InputError(
                f"{path}: [profile.{name}] {key}: secrets do not belong in the profile file; "
                "set AZURE_CLIENT_SECRET / DIAGNOSE_ADOBE_CLIENT_SECRET in the environment"
            )
        if key not in KEY_NAMES:
            raise InputError(f"{path}: [profile.{name}] unknown key {key!r}")
        if not isinstance(value, str):
            raise InputError(f"{path}: [profile.{name}] {key} must be a string")
        values[key] = value
    return values, f"file {path} [profile.{name}]"


def load(
    env: Mapping[str, str],
    config: Path | None = None,
    name: str | None = None,
    flags: Mapping[str, str | None] | None = None,
    cwd: Path | None = None,
) -> Profile:
    """Build the effective profile from its layers (see the module docstring)."""
    name = name or env.get("DIAGNOSE_PROFILE") or "default"
    path = config or (cwd or Path.cwd()) / "diagnose.toml"
    file_values, file_source = _read_file(path, name, explicit=config is not None)
    profile = Profile(name=name, path=path if file_source else None)
    for key in KEYS:
        value, source = None, ""
        if key.default is not None:
            value, source = key.default, "default"
        if key.name in file_values:
            value, source = file_values[key.name], file_source
        for variable in reversed(key.variables):  # the first variable wins
            if env.get(variable):
                value, source = env[variable], f"env {variable}"
        if flags and flags.get(key.name):
            value, source = flags[key.name], "flag"
        if value is not None:
            profile.values[key.name] = value
            profile.sources[key.name] = source
    for variable in CREDENTIAL_VARIABLES:
        if env.get(variable):
            profile.credentials[variable] = env[variable]
    _validate(profile)
    return profile


def is_key_uri(value: str) -> bool:
    """A Key Vault key URI: https://<vault>/keys/<name>[/<version>]."""
    return re.fullmatch(r"https://[^/]+/keys/[^/]+(/[^/]+)?/?", value) is not None


def _validate(profile: Profile) -> None:
    from diagnose.render.safe import first_unsafe

    for key, text in profile.values.items():
        unsafe = first_unsafe(text)
        if unsafe:
            raise InputError(
                f"{key} (from {profile.sources[key]}) holds the control character {unsafe}: "
                "identifiers and URLs never do"
            )
    for key, allowed in CHOICES.items():
        value = profile.values.get(key)
        if value is not None and value not in allowed:
            raise InputError(
                f"{key} = {value!r} (from {profile.sources[key]}) is not one of: {', '.join(allowed)}"
            )
    if profile.values.get("cloud") == "custom":
        missing = [k for k in ("authority", "arm_url", "graph_url") if not profile.values.get(k)]
        if missing:
            raise InputError(
                f"cloud = custom needs {', '.join(missing)} in the profile or environment"
            )
    for key in (
        "authority",
        "arm_url",
        "graph_url",
        "keyvault_url",
        "key_id",
        "cosmos_endpoint",
        "ims_url",
        "platform_url",
    ):
        value = profile.values.get(key)
        if value:
            _check_url(key, value, profile.sources[key])
    for key, pattern, example in RESOURCE_IDS:
        value = profile.values.get(key)
        if value and not re.fullmatch(pattern, value, re.I):
            raise InputError(f"{key} = {value!r} (from {profile.sources[key]}) is not {example}")
    key_id = profile.values.get("key_id")
    if key_id and not is_key_uri(key_id):
        raise InputError(
            f"key_id = {key_id!r} (from {profile.sources['key_id']}) is not a key URI "
            "(https://<vault>.vault.azure.net/keys/<name>[/<version>])"
        )
    certificate = profile.credentials.get("AZURE_CLIENT_CERTIFICATE_PATH")
    if certificate and not Path(certificate).is_file():
        raise InputError(f"AZURE_CLIENT_CERTIFICATE_PATH {certificate} is not a file")
    bundle = profile.values.get("ca_bundle")
    if bundle and not Path(bundle).is_file():
        raise InputError(f"ca_bundle {bundle} (from {profile.sources['ca_bundle']}) is not a file")


def _check_url(key: str, value: str, source: str) -> None:
    """An https:// URL whose host and port can be read (`https://[::1/` cannot)."""
    try:
        parts = urlsplit(value)
        host, _ = parts.hostname, parts.port  # both raise ValueError for what cannot be read
    except ValueError:
        raise InputError(
            f"{key} = {value!r} (from {source}) is not a valid URL (its host or port cannot be read)"
        ) from None
    if parts.scheme != "https":
        raise InputError(f"{key} = {value!r} (from {source}) must be an https:// URL")
    if not host:
        raise InputError(f"{key} = {value!r} (from {source}) names no host")


_ARM = r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
RESOURCE_IDS = (
    (
        "keyvault_id",
        _ARM + r"Microsoft\.KeyVault/(vaults|managedHSMs)/[^/]+/?",
        "a Key Vault resource id "
        "(/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>)",
    ),
    (
        "cosmos_id",
        _ARM + r"Microsoft\.DocumentDB/databaseAccounts/[^/]+/?",
        "a Cosmos DB account resource id "
        "(/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.DocumentDB/databaseAccounts/<name>)",
    ),
)

STARTER = """\
# diagnose profile. Identifiers only: secrets come from the environment
# (AZURE_CLIENT_ID/AZURE_CLIENT_SECRET or the Azure credential chain, and
# DIAGNOSE_ADOBE_CLIENT_ID/DIAGNOSE_ADOBE_CLIENT_SECRET). Every key can also be
# set by its variable (shown after each key); variables win over this file.

[profile.default]
{body}
"""


def file_text(profile: Profile, derived: Mapping[str, str] | None = None) -> str:
    """A profile file holding `profile`'s values (identifiers only); unset keys commented out.

    `derived` maps keys read from the live setup to where they came from (said in a comment).
    Values the file would not need (built-in defaults) are left out.
    """
    import json

    derived = derived or {}
    lines = []
    for key in KEYS:
        value = profile.get(key.name)
        note = f"; {derived[key.name]}" if key.name in derived else ""
        lines.append(f"# {key.help} ({', '.join(key.variables)}){note}")
        if value and profile.sources.get(key.name) != "default":
            lines.append(f"{key.name} = {json.dumps(value)}")
        else:
            lines.append(f'# {key.name} = "{key.default or ""}"')
    table = (
        profile.name if re.fullmatch(r"[A-Za-z0-9_-]+", profile.name) else json.dumps(profile.name)
    )
    return STARTER.replace("[profile.default]", f"[profile.{table}]").format(body="\n".join(lines))


# --- what a run needs ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Need:
    """A profile key a run needs: what it lets the run check, and where a run can derive it from."""

    key: str
    enables: str
    topologies: tuple[str, ...] = ("own", "adobe")
    derived_from: str | None = None  # a key from whose resource the run reads it (topology own)


NEEDS: tuple[Need, ...] = (
    Need("tenant_id", "the Entra ID tenant the tool signs in to (every Azure check)"),
    Need(
        "cosmos_id",
        "cosmos.cmk, roles.cosmos, principal.enabled; the vault, key and endpoint are read from it",
        ("own",),
    ),
    Need("keyvault_id", "keyvault.vault, keyvault.key, roles.keyvault", derived_from="cosmos_id"),
    Need("key_id", "keyvault.key, keyvault.unwrap", derived_from="cosmos_id"),
    Need("cosmos_endpoint", "cosmos.token, cosmos.dataplane", ("own",), derived_from="cosmos_id"),
    Need("cosmos_caller", "roles.cosmos (the application that reads Cosmos DB)", ("own",)),
    Need("principal_app_id", "principal.enabled", ("adobe",)),
    Need("byok_config", "adobe.byok", ("adobe",)),
    Need("ims_org", "campaign.window, campaign.endpoint, campaign.trigger"),
    Need("sandbox", "campaign.window, campaign.endpoint, campaign.trigger"),
    Need("campaign_id", "campaign.window, campaign.endpoint, campaign.trigger"),
)

# Keys any one of which lets at least one check run (the others skip, saying what they lack).
STARTERS = {
    "own": (
        "cosmos_id",
        "keyvault_id",
        "key_id",
        "cosmos_endpoint",
        "principal_app_id",
        "campaign_id",
    ),
    "adobe": ("keyvault_id", "key_id", "principal_app_id", "byok_config", "campaign_id"),
}


@dataclass(frozen=True)
class Readiness:
    missing: list[Need]  # not set, and not derivable from what is set
    derived: list[Need]  # not set, but a run reads it from the resource named by `derived_from`
    can_start: bool  # whether a run would check anything at all


def readiness(profile: Profile) -> Readiness:
    """What the profile lacks for a run, what a run derives, and whether a run could start."""
    topology = profile.topology
    missing: list[Need] = []
    derived: list[Need] = []
    for need in NEEDS:
        if topology not in need.topologies or profile.get(need.key):
            continue
        source = need.derived_from
        if source and topology == "own" and profile.get(source):
            derived.append(need)
        else:
            missing.append(need)
    can_start = any(profile.get(k) for k in STARTERS.get(topology, ()))
    return Readiness(missing, derived, can_start)
