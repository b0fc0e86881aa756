"""`diagnose profile show` and `diagnose profile init`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from diagnose.cli.options import open_profile, profile_options
from diagnose.errors import InputError


@click.group()
def profile() -> None:
    """The profile: which tenant, vault, key, account and campaign to check."""


@profile.command("show")
@profile_options
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(
    config: Path | None, profile_name: str | None, lab_scenario: str | None, output: str
) -> None:
    """Each effective value and where it came from (secrets are never shown)."""
    with open_profile(config, profile_name, lab_scenario) as prof:
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
                    },
                    indent=2,
                )
            )
            return
        click.echo(f"profile {prof.name}")
        for key, value in prof.values.items():
            click.echo(f"  {key:<17} {value}  ({prof.sources[key]})")
        if creds:
            click.echo(
                "credentials from the environment: " + ", ".join(f"{k} (set)" for k in creds)
            )
        else:
            click.echo(
                "credentials: none in the environment; the Azure credential chain (az login, managed identity...) will be used"
            )


@profile.command("init")
@click.option(
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("diagnose.toml"),
    show_default=True,
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path, force: bool) -> None:
    """Write a commented starter profile."""
    from diagnose.profile import starter_text

    if path.exists() and not force:
        raise InputError(f"{path} already exists (use --force to overwrite)")
    try:
        path.write_text(starter_text(), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    click.echo(
        f"wrote {path}; fill in the identifiers, then run `diagnose profile show`",
        err=bool(os.environ.get("CI")),
    )
