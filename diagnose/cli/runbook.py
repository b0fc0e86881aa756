"""`diagnose runbook`: the catalogue (list, show); more sub-commands attach to this group."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from diagnose.cli.complete import complete_runbook_ids
from diagnose.errors import InputError
from diagnose.render.choose import CATALOGUE, RUNBOOK, emit, output_option, styler

if TYPE_CHECKING:
    from diagnose.catalogue import Catalogue


def _catalogue() -> Catalogue:
    from diagnose import catalogue

    try:
        return catalogue.default()
    except catalogue.CatalogueError as exc:
        raise InputError(f"the runbook catalogue is malformed: {exc}") from None


@click.group(
    epilog="""\b
Examples:
  diagnose runbook list
  diagnose runbook show cosmosdb-auth-errors
  diagnose runbook walk cosmosdb-auth-errors --lab sp-disabled --fix
"""
)
def runbook() -> None:
    """The runbook catalogue: every cause diagnose knows and the step that fixes it."""


@runbook.command(
    "list",
    epilog="""\b
Examples:
  diagnose runbook list
  diagnose runbook list -o json
""",
)
@output_option(CATALOGUE)
def list_runbooks(output: str) -> None:
    """List the runbooks of the catalogue."""
    emit(CATALOGUE(output)(_catalogue(), styler(output)))


@runbook.command(
    "show",
    epilog="""\b
Examples:
  diagnose runbook show cosmosdb-auth-errors
  diagnose runbook show call-timeout -o json
""",
)
@click.argument("runbook_id", metavar="ID", shell_complete=complete_runbook_ids)
@output_option(RUNBOOK)
def show(runbook_id: str, output: str) -> None:
    """Show one runbook: its steps, what proves each, the causes and what to do."""
    from diagnose.catalogue import CatalogueError

    cat = _catalogue()
    try:
        book = cat.runbook(runbook_id)
    except CatalogueError as exc:
        raise InputError(str(exc)) from None
    emit(RUNBOOK(output)(book, styler(output)))


# The guided walkthrough lives in its own module (diagnose/cli/walk.py).
from diagnose.cli.walk import walk  # noqa: E402

runbook.add_command(walk)
