"""`diagnose explain`: triage logs, error bodies and HTTP responses into causes."""

from __future__ import annotations

import sys
from pathlib import PurePath
from typing import TYPE_CHECKING

import click

from diagnose import progress
from diagnose.errors import InputError
from diagnose.exitstatus import ExitStatus
from diagnose.model import Severity
from diagnose.render.choose import EXPLAIN, emit, output_option, styler

if TYPE_CHECKING:
    from diagnose.usecases.explain import Progress

EXAMPLES = """\b
Examples:
  diagnose explain app.log                    a log file (plain, JSON lines or gzip)
  diagnose explain errors/*.json.gz -o json   several inputs, the report as JSON
  kubectl logs deploy/ajo-caller | diagnose explain
  diagnose explain                            on a terminal: paste, then Ctrl-D
"""

PASTE_HINT = (
    "Paste the evidence (logs, error bodies, HTTP responses), then press Ctrl-D on an empty line."
)


@click.command(epilog=EXAMPLES)
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
    for stdin, which on a terminal reads what is pasted until end of input) and say which
    cause they show and which runbook step fixes it.

    Exit 0 when nothing at or above --fail-on is recognised, 1 when something is,
    2 when an input cannot be read.
    """
    from diagnose import catalogue
    from diagnose.usecases.explain import explain as run_explain

    paths = list(inputs) or ["-"]
    pasting = "-" in paths and sys.stdin.isatty()
    if pasting:
        click.echo(PASTE_HINT, err=True)
    try:
        cat = catalogue.default()
    except catalogue.CatalogueError as exc:
        raise InputError(f"the runbook catalogue is malformed: {exc}") from None
    reading = ReadProgress()
    with progress.Live(reading.render, enabled=False if pasting else None) as live:
        reading.live = live
        result = run_explain(paths, cat, on_progress=reading.read)
    for problem in result.problems:
        click.echo(f"warning: {problem}", err=True)
    emit(EXPLAIN(output)(result, styler(output)))
    if result.interrupted:
        click.echo("Interrupted: the report above covers what was read before Ctrl-C.", err=True)
        click.get_current_context().exit(int(ExitStatus.INTERRUPTED))
    click.get_current_context().exit(int(result.exit_status(Severity(fail_on))))


class ReadProgress:
    """`⠋ reading app.log: 45% (54 MB of 120 MB)`, on a terminal, for inputs read over a second."""

    def __init__(self) -> None:
        self.live: progress.Live | None = None
        self.name = ""
        self.done = 0
        self.total: int | None = None

    def read(self, progress: Progress) -> None:
        self.name, self.done, self.total = progress.source, progress.read, progress.size or None

    def render(self) -> list[str]:
        from diagnose.render.safe import escaped

        spin = self.live.spinner() if self.live else ""
        if not self.name:
            return [f"{spin} reading…"]
        if self.total:
            share = min(100, int(100 * self.done / self.total))
            amount = f"{share}% ({progress.size(self.done)} of {progress.size(self.total)})"
        else:
            amount = progress.size(self.done)
        name = self.name if len(self.name) <= 30 else f"…/{PurePath(self.name).name}"
        return [escaped(f"{spin} reading {name}: {amount}")]
