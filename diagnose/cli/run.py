"""`diagnose run`."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from diagnose.cli.complete import complete_check_ids
from diagnose.cli.fleet import fleet_options
from diagnose.cli.options import open_profile, out_option, positive_seconds, profile_options
from diagnose.errors import InputError
from diagnose.exitstatus import ExitStatus
from diagnose.model import CheckResult, Severity, Status
from diagnose.render.choose import RUN, emit, output_option, styler

if TYPE_CHECKING:
    from diagnose.checks.base import Check
    from diagnose.usecases.run import RunReport


def _ids(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


EXAMPLES = """\b
Examples:
  diagnose run --lab kv-role-missing          try it on the built-in lab
  diagnose run                                check the profile's setup (diagnose.toml)
  diagnose run --trigger                      also make ONE real campaign call
  diagnose run -o json --out report.json      the report for a ticket or a pipeline
  diagnose run --only keyvault.key,keyvault.unwrap
"""


@click.command(epilog=EXAMPLES)
@profile_options
@click.option(
    "--only",
    metavar="IDS",
    shell_complete=complete_check_ids,
    help="Comma-separated check ids to run (plus what they need).",
)
@click.option(
    "--skip",
    metavar="IDS",
    shell_complete=complete_check_ids,
    help="Comma-separated check ids not to run.",
)
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
@out_option("Write the report to FILE (in the --output format).")
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
@fleet_options
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
    **fleet: Any,
) -> None:
    """Walk the CMK chain live and say, root cause first, which runbook step fixes it.

    On a terminal, checks show on stderr as they finish; then every check in chain order,
    the diagnosis, and last the root cause, the fix to do first and what was not tested.

    Exit 0: nothing at or above --fail-on; 1: findings; 2: usage or configuration;
    3: the tool could not decide (its own credential, permissions or reach).
    """
    from diagnose.checks.base import RunOptions
    from diagnose.cli import fleet as fleet_cli  # --all: every account Resource Graph finds
    from diagnose.render import run_text
    from diagnose.usecases.run import make_report, run_checks

    if fleet_cli.wanted(fleet, only=only, skip=skip, trigger=trigger):
        fleet_cli.run_all(
            ctx, config, profile_name, lab_scenario, output, out, timeout, fail_on, fleet
        )
    gated = fleet_cli.gate(fleet)  # --baseline, --write-baseline, --horizon (issue 16)
    started_at = datetime.now(UTC)
    progress = RunProgress(trigger, trigger_deadline)
    with open_profile(config, profile_name, lab_scenario) as profile:
        progress.title = run_text.header(profile.name, profile.topology)
        with progress.live:
            try:
                report = run_checks(
                    profile,
                    RunOptions(trigger=trigger, trigger_deadline_s=trigger_deadline),
                    only=_ids(only),
                    skip=_ids(skip),
                    budget_s=timeout,
                    fail_on=Severity(fail_on),
                    on_result=progress.finished,
                    on_plan=progress.planned,
                )
            except KeyboardInterrupt:
                interrupted = True
            else:
                interrupted = False
        if interrupted:
            # Exit 130, after printing whatever was finished.
            elapsed = int((datetime.now(UTC) - started_at).total_seconds() * 1000)
            partial = make_report(
                profile, list(progress.results), started_at, elapsed, Severity(fail_on)
            )
            _emit(partial, output, out)
            click.echo(
                "Interrupted: the report above holds the checks that had finished.", err=True
            )
            ctx.exit(int(ExitStatus.INTERRUPTED))
        if what_changed:
            from diagnose.usecases import timeline as changes

            # the run's profile: with the vault and key it derived from the account
            report.what_changed = changes.build(report.profile, changes.default_since())
    if all(c.status is Status.SKIP for c in report.checks):
        reasons = "; ".join(sorted({c.summary for c in report.checks}))[:600]
        raise InputError(
            f"nothing was checked: every check skipped ({reasons}). Fill in the profile "
            "(`diagnose profile init`, `diagnose profile show`) or try `diagnose run --lab healthy`"
        )
    report = gated(report)
    _emit(report, output, out)
    ctx.exit(int(report.exit_status))


class RunProgress:
    """What a terminal shows while the checks run: each check as it finishes, then what is awaited.

    On stderr, only on a terminal (diagnose/progress.py); erased before the report is printed.
    """

    def __init__(self, trigger: bool, trigger_deadline_s: float) -> None:
        from diagnose import progress

        self.trigger = trigger
        self.trigger_deadline_s = trigger_deadline_s
        self.title = ""
        self.results: list[CheckResult] = []
        self.plan: list[str] = []
        self.last_finish = time.monotonic()
        self.style = styler("text", sys.stderr)
        self.live = progress.Live(self.render, delay_s=0.0)

    def planned(self, checks: list[Check]) -> None:
        self.plan = [c.id for c in checks]

    def finished(self, result: CheckResult) -> None:
        self.results.append(result)
        self.last_finish = time.monotonic()
        self.live.refresh()

    def render(self) -> list[str]:
        from diagnose import progress
        from diagnose.render import run_text
        from diagnose.render.safe import escaped

        lines = [self.title] if self.title else []
        lines += [escaped(run_text.summary_line(r, self.style)) for r in self.results]
        done = {r.id for r in self.results}
        waiting = [cid for cid in self.plan if cid not in done]
        count = f"{len(done)} of {len(self.plan) or '?'} checks finished"
        spin, elapsed = self.live.spinner(), progress.seconds(self.live.elapsed_s)
        if self.trigger and waiting == ["campaign.trigger"]:
            since = progress.seconds(time.monotonic() - self.last_finish)
            status = (
                f"{spin} the campaign call: {since} of its {self.trigger_deadline_s:g} s "
                f"deadline ({count})"
            )
        else:
            status = f"{spin} {count}, {elapsed}"
            if waiting:
                status += f"; waiting for {', '.join(waiting[:2])}{'…' if len(waiting) > 2 else ''}"
        return [*lines, status]


def _emit(report: RunReport, output: str, out: Path | None) -> None:
    """Text on stdout, fitted to the terminal; with --out, the report in its format to FILE."""
    from diagnose.progress import terminal_size
    from diagnose.render import run_text
    from diagnose.render.style import Styler

    if output == "text":
        size = terminal_size(sys.stdout)
        emit(run_text.render(report, styler("text"), size.columns, size.lines))
    if out or output != "text":
        emit(RUN(output)(report, Styler(False)), out)  # a report, not a terminal: no colour
