"""`diagnose explain`: triage logs, error bodies and HTTP responses into causes."""

from __future__ import annotations

import sys

import click

from diagnose.errors import InputError
from diagnose.exitstatus import ExitStatus
from diagnose.model import Severity
from diagnose.render.choose import EXPLAIN, emit, output_option, styler


@click.command()
@click.argument(
    "inputs",
    nargs=-1,
    metavar="[FILE...|-]",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
)
@output_option(EXPLAIN, help="Report format (json: diagnose/explain@1).")
@click.option(
    "--fail-on",
    type=click.Choice(["fail", "warn"]),
    default="fail",
    show_default=True,
    help="Exit 1 when a cause of this severity or worse is recognised.",
)
def explain(inputs: tuple[str, ...], output: str, fail_on: str) -> None:
    """Read logs, error bodies or pasted HTTP responses (plain, JSON, gzip; `-` or nothing
    for stdin) and say which cause they show and which runbook step fixes it.

    Exit 0 when nothing at or above --fail-on is recognised, 1 when something is,
    2 when an input cannot be read.
    """
    from diagnose import catalogue
    from diagnose.usecases.explain import explain as run_explain

    paths = list(inputs) or ["-"]
    if paths == ["-"] and sys.stdin.isatty():
        raise InputError("no input: give one or more FILEs, or `-` and pipe the evidence in")
    try:
        cat = catalogue.default()
    except catalogue.CatalogueError as exc:
        raise InputError(f"the runbook catalogue is malformed: {exc}") from None
    result = run_explain(paths, cat)
    for problem in result.problems:
        click.echo(f"warning: {problem}", err=True)
    emit(EXPLAIN(output)(result, styler(output)))
    if result.interrupted:
        click.echo("Interrupted: the report above covers what was read before Ctrl-C.", err=True)
        click.get_current_context().exit(int(ExitStatus.INTERRUPTED))
    click.get_current_context().exit(int(result.exit_status(Severity(fail_on))))
