"""`diagnose runbook`: the catalogue (list, show); more sub-commands attach to this group."""

from __future__ import annotations

import sys

import click

from diagnose.errors import InputError


def _catalogue():  # noqa: ANN202 - the Catalogue type would import at start-up
    from diagnose import catalogue

    try:
        return catalogue.default()
    except catalogue.CatalogueError as exc:
        raise InputError(f"the runbook catalogue is malformed: {exc}") from None


def _styler():  # noqa: ANN202
    from diagnose.render.style import Styler, use_colour

    return Styler(use_colour(sys.stdout))


output_option = click.option(
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)


@click.group()
def runbook() -> None:
    """The runbook catalogue: every cause diagnose knows and the step that fixes it."""


@runbook.command("list")
@output_option
def list_runbooks(output: str) -> None:
    """List the runbooks of the catalogue."""
    from diagnose.render import catalogue as render

    cat = _catalogue()
    if output == "json":
        click.echo(render.render_list_json(cat))
    else:
        click.echo(render.render_list_text(cat, _styler()))


@runbook.command("show")
@click.argument("runbook_id", metavar="ID")
@output_option
def show(runbook_id: str, output: str) -> None:
    """Show one runbook: its steps, what proves each, the causes and what to do."""
    from diagnose.catalogue import CatalogueError
    from diagnose.render import catalogue as render

    cat = _catalogue()
    try:
        book = cat.runbook(runbook_id)
    except CatalogueError as exc:
        raise InputError(str(exc)) from None
    if output == "json":
        click.echo(render.render_show_json(book))
    else:
        click.echo(render.render_show_text(book, _styler()))


# The guided walkthrough lives in its own module (diagnose/cli/walk.py).
from diagnose.cli.walk import walk  # noqa: E402

runbook.add_command(walk)
