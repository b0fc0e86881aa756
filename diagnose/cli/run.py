"""`diagnose run`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from diagnose.cli.options import open_profile, positive_seconds, profile_options
from diagnose.errors import InputError
from diagnose.exitstatus import ExitStatus
from diagnose.model import CheckResult, Severity, Status
from diagnose.render.choose import RUN, emit, output_option, styler

if TYPE_CHECKING:
    from diagnose.render.style import Styler
    from diagnose.usecases.run import RunReport


def _ids(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@click.command()
@profile_options
@click.option(
    "--only", metavar="IDS", help="Comma-separated check ids to run (plus what they need)."
)
@click.option("--skip", metavar="IDS", help="Comma-separated check ids not to run.")
@click.option(
    "--trigger",
    is_flag=True,
    help="Also make ONE real campaign execution call (a write; this flag is the consent).",
)
@click.option(
    "--trigger-deadline",
    type=float,
    default=60.0,
    show_default=True,
    callback=positive_seconds,
    metavar="S",
    help="Deadline of the test call (the service's own time-out is 60 s).",
)
@click.option(
    "--what-changed",
    is_flag=True,
    help="Add what changed, who and when in the last 7 days (as `diagnose timeline`).",
)
@output_option(RUN)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE."
)
@click.option(
    "--timeout",
    type=float,
    callback=positive_seconds,
    metavar="S",
    help="Budget for the whole run.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["fail", "warn"]),
    default="fail",
    show_default=True,
    help="Lowest severity that makes the exit status 1.",
)
@click.pass_context
def run(
    ctx: click.Context,
    config: Path | None,
    profile_name: str | None,
    lab_scenario: str | None,
    only: str | None,
    skip: str | None,
    trigger: bool,
    trigger_deadline: float,
    what_changed: bool,
    output: str,
    out: Path | None,
    timeout: float | None,
    fail_on: str,
) -> None:
    """Walk the CMK chain live and say, root cause first, which runbook step fixes it.

    Exit 0: nothing at or above --fail-on; 1: findings; 2: usage or configuration;
    3: the tool could not decide (its own credential, permissions or reach).
    """
    from diagnose.checks.base import RunOptions
    from diagnose.render import run_text
    from diagnose.usecases.run import make_report, run_checks

    # Checks print as they finish: on stdout for text, on stderr (a terminal only) otherwise.
    live_text = output == "text"
    live_stream = sys.stdout if live_text else sys.stderr
    live = live_text or live_stream.isatty()
    style = styler("text", live_stream)

    finished: list[CheckResult] = []

    def on_result(result: CheckResult) -> None:
        finished.append(result)
        if live:
            click.echo(run_text.check_line(result, style), file=live_stream)

    started_at = datetime.now(UTC)
    with open_profile(config, profile_name, lab_scenario) as profile:
        if live:
            click.echo(run_text.header(profile.name, profile.topology), file=live_stream)
        try:
            report = run_checks(
                profile,
                RunOptions(trigger=trigger, trigger_deadline_s=trigger_deadline),
                only=_ids(only),
                skip=_ids(skip),
                budget_s=timeout,
                fail_on=Severity(fail_on),
                on_result=on_result,
            )
        except KeyboardInterrupt:
            # Exit 130, after printing whatever was finished.
            elapsed = int((datetime.now(UTC) - started_at).total_seconds() * 1000)
            partial = make_report(profile, list(finished), started_at, elapsed, Severity(fail_on))
            _emit(partial, output, out, style)
            click.echo(
                "Interrupted: the report above holds the checks that had finished.", err=True
            )
            ctx.exit(int(ExitStatus.INTERRUPTED))
        if what_changed:
            from diagnose.usecases import timeline as changes

            report.what_changed = changes.build(profile, changes.default_since())
    if all(c.status is Status.SKIP for c in report.checks):
        reasons = "; ".join(sorted({c.summary for c in report.checks}))[:600]
        raise InputError(
            f"nothing was checked: every check skipped ({reasons}). Fill in the profile "
            "(`diagnose profile init`, `diagnose profile show`) or try `diagnose run --lab healthy`"
        )
    _emit(report, output, out, style)
    ctx.exit(int(report.exit_status))


def _emit(report: RunReport, output: str, out: Path | None, style: Styler) -> None:
    """Text: the diagnosis after the live check lines; with --out, the whole report to FILE."""
    from diagnose.render import run_text
    from diagnose.render.style import Styler

    if output == "text":
        click.echo("\n" + run_text.diagnosis_block(report, style), nl=False)
        if report.what_changed is not None:
            from diagnose.render.timeline import render_text

            emit("\n" + render_text(report.what_changed, style))
    if out or output != "text":
        emit(RUN(output)(report, Styler(False)), out)  # a report, not a terminal: no colour
