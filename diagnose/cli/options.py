"""Options shared by the commands that talk to services: the profile and the embedded lab."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import click
from click.shell_completion import CompletionItem

from diagnose import profile as profiles
from diagnose.errors import InputError

F = TypeVar("F", bound=Callable[..., object])

OUTPUTS = ("text", "json", "markdown")


def profile_options(func: F) -> F:
    """--config, --profile and --lab, in that order in --help."""
    func = click.option(
        "--lab",
        "lab_scenario",
        metavar="SCENARIO",
        shell_complete=complete_scenarios,
        help="Start the built-in lab with this scenario and check it (no Azure account needed; "
        "see `diagnose lab scenarios`).",
    )(func)
    func = click.option(
        "--profile",
        "profile_name",
        metavar="NAME",
        help="Profile table [profile.NAME] (default: default).",
    )(func)
    func = click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Profile file (default: ./diagnose.toml, optional).",
    )(func)
    return func


def complete_scenarios(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The lab's scenario names, for shell completion (read without starting a lab)."""
    from diagnose.cli.complete import items
    from diagnose.lab.scenarios import SCENARIOS

    return items(dict(SCENARIOS), incomplete)


def finite_number(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A number option that must be finite (click's ranges let nan and inf through)."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value!r} is not a finite number")
    return value


def positive_seconds(
    ctx: click.Context, param: click.Parameter, value: float | None
) -> float | None:
    """A click callback: a number of seconds above 0 and finite (`nan` and `inf` are refused)."""

    if value is not None and not (math.isfinite(value) and value > 0):
        raise click.BadParameter(f"{value!r} is not a positive, finite number of seconds")
    return value


@contextlib.contextmanager
def open_profile(
    config: Path | None,
    profile_name: str | None,
    lab_scenario: str | None,
    flags: dict[str, str | None] | None = None,
) -> Iterator[profiles.Profile]:
    """The effective profile; with --lab, a lab started in process whose environment is the profile's."""
    if not lab_scenario:
        yield profiles.load(dict(os.environ), config=config, name=profile_name, flags=flags)
        return
    if config or profile_name:
        raise InputError("--lab replaces the profile: do not combine it with --config or --profile")
    from diagnose.lab import Lab  # unknown scenarios and bad DIAGNOSE_LAB_PROPAGATION_S: exit 2
    from diagnose.lab.faults import faults_from_env  # a bad DIAGNOSE_LAB_FAULTS: exit 2

    with Lab(lab_scenario, faults=faults_from_env()) as lab:
        yield profiles.load(
            dict(lab.env), config=None, name=None, flags=flags, cwd=Path("/nonexistent")
        )


FORMAT_NAMES = ("text", "json", "junit", "markdown", "md", "xml", "html", "sarif")


def _out_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """--out FILE, but not a bare format name: `--out json` is a mistyped `--output json`."""
    if value is not None and value.lower() in FORMAT_NAMES:
        raise click.BadParameter(
            f"{value!r} looks like a format, not a file: for the format use "
            f"`-o {value.lower()}`; for a file of that name write `./{value}`"
        )
    return Path(value) if value is not None else None


def out_option(help: str) -> Callable[[F], F]:
    """A command's `--out FILE` (refusing a bare format name, exit 2)."""
    return click.option(
        "--out", type=click.Path(dir_okay=False), callback=_out_path, metavar="FILE", help=help
    )
