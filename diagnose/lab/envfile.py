"""The lab as a profile: the profile's variable names (docs/design.md), the env file and the profile file."""

from __future__ import annotations

from pathlib import Path

from diagnose.files import write_atomic
from diagnose.lab.history import workspace_id
from diagnose.lab.world import World
from diagnose.profile import KEYS

# file key -> its first variable (docs/design.md, "Profile"): the profile's own declarations.
PROFILE_KEYS = {key.name: key.variables[0] for key in KEYS}


def lab_env(world: World, urls: dict[str, str], ca_bundle: str) -> dict[str, str]:
    """Every profile variable the lab has a value for (docs/lab.md "Environment")."""
    own = world.topology == "own"
    env = {
        "DIAGNOSE_CLOUD": "custom",
        "AZURE_AUTHORITY_HOST": urls["entra"],
        "DIAGNOSE_ARM_URL": urls["arm"],
        "DIAGNOSE_GRAPH_URL": urls["graph"],
        "DIAGNOSE_CA_BUNDLE": ca_bundle,
        "REQUESTS_CA_BUNDLE": ca_bundle,
        "AZURE_TENANT_ID": world.tenant_id,
        "DIAGNOSE_SUBSCRIPTION_ID": world.subscription_id,
        "DIAGNOSE_TOPOLOGY": world.topology,
        "DIAGNOSE_KEYVAULT_ID": world.vault.id,
        "DIAGNOSE_KEYVAULT_URL": world.vault.url,
        "DIAGNOSE_KEY_ID": world.vault.key_uri(world.key_name),
        "DIAGNOSE_IMS_URL": urls["ims"],
        "DIAGNOSE_PLATFORM_URL": urls["platform"],
        "DIAGNOSE_IMS_ORG": world.adobe.ims_org,
        "DIAGNOSE_SANDBOX": world.adobe.sandbox,
        "DIAGNOSE_CAMPAIGN_ID": world.campaign.id,
        "DIAGNOSE_EXECUTION_KIND": world.execution_kind,
        "AZURE_CLIENT_ID": world.diagnoser.app_id,
        "AZURE_CLIENT_SECRET": world.diagnoser.secrets[0].value,
        "DIAGNOSE_ADOBE_CLIENT_ID": world.adobe.client_id,
        "DIAGNOSE_ADOBE_CLIENT_SECRET": world.adobe.client_secret,
        "DIAGNOSE_ADOBE_SCOPES": world.adobe.scopes,
        # the timeline's workspace, where the lab serves Log Analytics (a fleet lab does not)
        **(
            {
                "DIAGNOSE_WORKSPACE_ID": workspace_id(),
                "DIAGNOSE_LOGANALYTICS_URL": urls["loganalytics"],
            }
            if "loganalytics" in urls
            else {}
        ),
    }
    if own:
        env["DIAGNOSE_PRINCIPAL_APP_ID"] = world.principals[world.cmk_principal_id].app_id
        env["DIAGNOSE_COSMOS_ID"] = world.cosmos.id
        env["DIAGNOSE_COSMOS_ENDPOINT"] = world.cosmos.endpoint
        env["DIAGNOSE_COSMOS_CALLER_APP_ID"] = world.principals[world.caller_id].app_id
    else:
        env["DIAGNOSE_BYOK_CONFIG"] = world.adobe.byok_config
    return env


def env_text(env: dict[str, str]) -> str:
    """`export NAME='value'` lines, safe to `source` in any POSIX shell."""
    return "".join(f"export {name}={_quote(value)}\n" for name, value in env.items())


def _quote(value: str) -> str:
    """Always single quotes (the contract's form), a quote inside written as '"'"'."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def profile_text(env: dict[str, str], name: str = "default") -> str:
    """The same values as a profile file (identifiers only: no secret ever goes to a file profile)."""
    lines = [
        "# Written by `diagnose lab serve`: the lab as a custom cloud. Credentials are not here:",
        "# take AZURE_CLIENT_ID/AZURE_CLIENT_SECRET and DIAGNOSE_ADOBE_* from the env file.",
        f"[profile.{name}]",
    ]
    for key, variable in PROFILE_KEYS.items():
        if variable in env:
            value = env[variable].replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


def write_env(path: str | Path, env: dict[str, str]) -> None:
    write_atomic(Path(path), env_text(env), mode=0o600)


def write_profile(path: str | Path, env: dict[str, str]) -> None:
    write_atomic(Path(path), profile_text(env), mode=0o644)
