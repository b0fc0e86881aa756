"""`diagnose runbook walk ID`: the guided walkthrough."""

from __future__ import annotations

from pathlib import Path

import click

from diagnose import progress
from diagnose.cli.complete import complete_runbook_ids
from diagnose.cli.options import open_profile, positive_seconds, profile_options
from diagnose.errors import InputError
from diagnose.exitstatus import ExitStatus, decide
from diagnose.model import Severity
from diagnose.render.choose import styler

EXAMPLES = """\b
Examples:
  diagnose runbook walk cosmosdb-auth-errors                 prove each step, read-only
  diagnose runbook walk cosmosdb-auth-errors --fix           offer each documented fix
  diagnose runbook walk cosmosdb-auth-errors --lab sp-disabled --fix --yes
  diagnose runbook walk call-timeout --transcript walk.md
"""


@click.command(epilog=EXAMPLES)
@click.argument("runbook_id", metavar="ID", shell_complete=complete_runbook_ids)
@profile_options
@click.option(
    "--fix", is_flag=True, help="Offer the documented fixes (each still asks, unless --yes)."
)
@click.option(
    "--yes", is_flag=True, help="Answer yes to fixes and to the test call (consent given up front)."
)
@click.option(
    "--no-input", is_flag=True, help="Never prompt: fixes and the test call only with --yes."
)
@click.option(
    "--wait",
    "wait_s",
    type=float,
    callback=positive_seconds,
    default=3600.0,
    show_default=True,
    metavar="S",
    help="Longest wait for recovery after a fix.",
)
@click.option(
    "--trigger-deadline",
    type=float,
    callback=positive_seconds,
    default=60.0,
    show_default=True,
    metavar="S",
    help="Deadline of the test call.",
)
@click.option(
    "--transcript",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write what was done (Markdown, or JSON for *.json).",
)
@click.pass_context
def walk(
    ctx: click.Context,
    runbook_id: str,
    config: Path | None,
    profile_name: str | None,
    lab_scenario: str | None,
    fix: bool,
    yes: bool,
    no_input: bool,
    wait_s: float,
    trigger_deadline: float,
    transcript: Path | None,
) -> None:
    """Walk a runbook step by step: prove each step live, offer the documented fix, wait, retest.

    Exit 0 when the final state is healthy, 1 when it is not, 130 on Ctrl-C
    (the transcript is written in every case).
    """
    from diagnose import catalogue
    from diagnose.catalogue import CatalogueError
    from diagnose.walk.console import Console
    from diagnose.walk.session import Walk, WalkOptions

    cat = catalogue.default()
    try:
        runbook = cat.runbook(runbook_id)
    except CatalogueError as exc:
        raise InputError(str(exc)) from None
    console = Console(styler(), no_input=no_input)
    options = WalkOptions(
        fix=fix,
        yes=yes,
        wait_s=wait_s,
        trigger_deadline_s=trigger_deadline,
        sleep=progress.countdown_sleep,  # a wait for recovery shows what is left
    )
    session = None
    interrupted = False
    try:
        with open_profile(config, profile_name, lab_scenario) as profile:
            session = Walk(runbook, cat, profile, options, console)
            console.say(console.style(f"Runbook {runbook.id}: {runbook.title}", bold=True))
            session.run()
    except KeyboardInterrupt:
        interrupted = True
        click.echo("\nInterrupted: writing what was done.", err=True)
    finally:
        if session is not None and transcript is not None:
            try:
                session.transcript.write(transcript)
                click.echo(f"transcript written to {transcript}", err=True)
            except OSError as exc:
                click.echo(f"cannot write the transcript {transcript}: {exc.strerror}", err=True)
    if interrupted:
        ctx.exit(int(ExitStatus.INTERRUPTED))
    assert session is not None
    final = session.transcript.final
    console.say("")
    colour = "green" if final == "healthy" else "red"
    console.say(console.style(f"Final state: {final}", fg=colour, bold=True))
    ctx.exit(int(_exit_status(final, session.blocked_by_limitation)))


def _exit_status(final: str, blocked_by_limitation: bool) -> ExitStatus:
    """Healthy: 0; stopped at a step the tool could not decide (its own access or reach): 3; else 1."""
    unhealthy = final != "healthy"
    undecided = unhealthy and blocked_by_limitation
    return decide([Severity.FAIL] if unhealthy and not undecided else [], undecided=undecided)
