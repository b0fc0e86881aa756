"""`diagnose profile show` and `diagnose profile init`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from diagnose.cli.options import open_profile, profile_options
from diagnose.errors import InputError
from diagnose.exitstatus import ExitStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from diagnose.profile import Profile, Readiness
    from diagnose.usecases import derive  # noqa: F401 - annotations


@click.group(
    epilog="""\b
Examples:
  diagnose profile init                   asks for the account and campaign, reads the rest
  diagnose profile init --no-input --set cosmos_id=/subscriptions/…/databaseAccounts/NAME
  diagnose profile show                   every value, where it came from, what is missing
"""
)
def profile() -> None:
    """The profile: which tenant, vault, key, account and campaign to check."""


@profile.command(
    "show",
    epilog="""\b
Examples:
  diagnose profile show
  diagnose profile show --profile staging -o json
  diagnose profile show --lab healthy
""",
)
@profile_options
@click.option(
    "-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def show(
    ctx: click.Context,
    config: Path | None,
    profile_name: str | None,
    lab_scenario: str | None,
    output: str,
) -> None:
    """Each effective value and where it came from (secrets are never shown), and what is missing.

    Exit 2 when a run with this profile would check nothing.
    """
    from diagnose.profile import readiness

    with open_profile(config, profile_name, lab_scenario) as prof:
        ready = readiness(prof)
        creds = {name: "set" for name in prof.credentials}
        if output == "json":
            click.echo(
                json.dumps(
                    {
                        "profile": prof.name,
                        "values": {
                            k: {"value": v, "source": prof.sources[k]}
                            for k, v in prof.values.items()
                        },
                        "credentials": creds,
                        "missing": [{"key": n.key, "enables": n.enables} for n in ready.missing],
                        "derived_at_run": [
                            {"key": n.key, "from": n.derived_from} for n in ready.derived
                        ],
                        "can_start": ready.can_start,
                    },
                    indent=2,
                )
            )
        else:
            _show_text(prof, creds, ready)
    if not ready.can_start:
        ctx.exit(int(ExitStatus.USAGE))


def _show_text(prof: Profile, creds: dict[str, str], ready: Readiness) -> None:
    from diagnose.render.safe import escaped

    say = lambda text: click.echo(escaped(text))  # noqa: E731 - values come from files and the env
    say(f"profile {prof.name}")
    for key, value in prof.values.items():
        say(f"  {key:<17} {value}  ({prof.sources[key]})")
    if creds:
        say("credentials from the environment: " + ", ".join(f"{k} (set)" for k in creds))
    else:
        say(
            "credentials: none in the environment; the Azure credential chain "
            "(az login, managed identity...) will be used"
        )
    for need in ready.derived:
        say(f"  {need.key:<17} read at run time from the resource of {need.derived_from}")
    if ready.missing:
        say("missing (set them in the file, or `diagnose profile init`):")
        for need in ready.missing:
            say(f"  {need.key:<17} for {need.enables}")
    if not ready.can_start:
        click.echo(
            "A run with this profile would check nothing: set cosmos_id (or the vault and key), "
            "or campaign_id; `diagnose profile init` asks for them.",
            err=True,
        )


def _pairs(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """--set KEY=VALUE, repeatable: profile keys only (secrets never go in the file)."""
    from diagnose.profile import KEY_NAMES

    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE")
        if key not in KEY_NAMES:
            raise click.BadParameter(
                f"{key!r} is not a profile key (keys: {', '.join(sorted(KEY_NAMES))})"
            )
        out[key] = value.strip()
    return out


def _complete_keys(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[click.shell_completion.CompletionItem]:
    from diagnose.cli.complete import items
    from diagnose.profile import KEYS

    return items({f"{k.name}=": k.help for k in KEYS}, incomplete)


@profile.command(
    "init",
    epilog="""\b
Examples:
  diagnose profile init
  diagnose profile init --no-input                     from the environment (CI)
  diagnose profile init --no-input --set cosmos_id=/subscriptions/S/resourceGroups/G/providers/Microsoft.DocumentDB/databaseAccounts/A --set campaign_id=C
  diagnose profile init --path staging.toml --profile staging
""",
)
@click.option(
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("diagnose.toml"),
    show_default=True,
    help="The file to write.",
)
@click.option("--profile", "profile_name", default="default", show_default=True, metavar="NAME")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option(
    "--set",
    "given",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_pairs,
    shell_complete=_complete_keys,
    help="A profile value (repeatable); wins over the environment.",
)
@click.option(
    "--no-input",
    is_flag=True,
    help="Never ask: write what --set, the environment and the live reads give.",
)
@click.option(
    "--no-derive",
    is_flag=True,
    help="Do not read the account to derive the vault, key, endpoint and principal.",
)
def init(
    path: Path,
    profile_name: str,
    force: bool,
    given: dict[str, str],
    no_input: bool,
    no_derive: bool,
) -> None:
    """Write a profile: ask only for what cannot be read, and read the rest live.

    Asked (unless set by --set or the environment): the topology, the tenant, the Cosmos DB
    account (topology own) or the key (adobe), the production caller and the campaign.
    Read from the account: the key and vault (its keyVaultKeyUri), the data-plane endpoint
    and the principal (its defaultIdentity). Without a terminal, or with --no-input, nothing
    is asked.
    """
    import os

    from diagnose import profile as profiles
    from diagnose.usecases import derive

    if path.exists() and not force:
        raise InputError(f"{path} already exists (use --force to overwrite)")
    asking = not no_input and sys.stdin.isatty()
    values = dict(given)
    env = dict(os.environ)

    def load() -> Profile:
        return profiles.load(
            env, config=None, name=profile_name, flags=values, cwd=Path("/nonexistent")
        )

    if asking:
        _ask(FIRST_QUESTIONS, values, load())
        topology = load().topology
        _ask(OWN_QUESTIONS if topology == "own" else ADOBE_QUESTIONS, values, load())
    prof = load()
    derived_sources: dict[str, str] = {}
    if not no_derive:
        prof, derived_sources = _derive(prof)
    if asking:
        last = [q for q in LAST_QUESTIONS if prof.topology == "own" or q[0] != "cosmos_caller"]
        if _ask(last, values, prof):
            prof = derive.with_values(load(), _derived(prof, derived_sources))
    text = profiles.file_text(prof, derived_sources)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    ready = profiles.readiness(profiles.load({}, config=path, name=profile_name))
    click.echo(f"wrote {path}", err=True)
    for need in ready.missing:
        click.echo(f"  still missing: {need.key} (for {need.enables})", err=True)
    click.echo("next: `diagnose profile show`, then `diagnose run`", err=True)


Question = tuple[str, str]
# What `init` asks (key, question), unless --set or the environment gives it; the rest is read.
FIRST_QUESTIONS: tuple[Question, ...] = (
    ("topology", "Topology: own (you run the Cosmos DB account) or adobe"),
    ("tenant_id", "Entra ID tenant id"),
)
OWN_QUESTIONS: tuple[Question, ...] = (
    (
        "cosmos_id",
        "Cosmos DB account resource id "
        "(/subscriptions/…/providers/Microsoft.DocumentDB/databaseAccounts/NAME)",
    ),
)
ADOBE_QUESTIONS: tuple[Question, ...] = (
    ("key_id", "Key URI (https://VAULT.vault.azure.net/keys/NAME)"),
    ("keyvault_id", "Key Vault resource id"),
    ("byok_config", "BYOK configuration name"),
)
LAST_QUESTIONS: tuple[Question, ...] = (
    ("cosmos_caller", "App id of the application that reads Cosmos DB in production (Enter: skip)"),
    ("ims_org", "Adobe IMS organization id (Enter: skip)"),
    ("sandbox", "Experience Platform sandbox (Enter: skip)"),
    ("campaign_id", "API-triggered campaign id (Enter: skip)"),
)


def _ask(questions: Sequence[Question], values: dict[str, str], known: Profile) -> bool:
    """Ask, on stderr, for each key `known` lacks; Enter leaves it out. Whether any was answered.

    End of input stops asking: what is known is written."""
    answered = False
    for key, question in questions:
        if key in values or known.get(key) and known.sources.get(key) != "default":
            continue
        default = known.get(key) or ""
        try:
            answer = click.prompt(question, default=default, show_default=bool(default), err=True)
        except click.exceptions.Abort as exc:
            if isinstance(exc.__context__, EOFError):
                return answered
            raise
        if str(answer).strip():
            values[key] = str(answer).strip()
            answered = True
    return answered


def _derived(prof: Profile, sources: dict[str, str]) -> derive.Derived:
    """The derived values of `prof` again (after a reload), with their sources."""
    from diagnose.usecases import derive

    found = derive.Derived()
    for key, source in sources.items():
        value = prof.get(key)
        if value:
            found.values[key], found.sources[key] = value, source
    return found


def _derive(prof: Profile) -> tuple[Profile, dict[str, str]]:
    """The profile with what the account names; the derived keys and where each came from."""
    from diagnose.usecases import derive

    if prof.topology != "own" or not prof.cosmos_id:
        return prof, {}
    _, found = derive.for_profile(prof, principal=True)
    if not prof.subscription_id:
        found.add("subscription_id", prof.cosmos_id.split("/")[2], "derived from cosmos_id")
    for note in found.notes:
        click.echo(f"  not derived: {note}", err=True)
    for key, value in found.values.items():
        click.echo(f"  {key} = {value}  ({found.sources[key]})", err=True)
    return derive.with_values(prof, found), dict(found.sources)
