"""`diagnose timeline`."""

from __future__ import annotations

from pathlib import Path

import click

from diagnose.cli.options import open_profile, out_option, profile_options
from diagnose.render.choose import TIMELINE, emit, output_option, styler
from diagnose.timeline.window import DEFAULT_SINCE, parse_since, window_end

EXAMPLES = """\b
Examples:
  diagnose timeline --lab sp-disabled         try it on the built-in lab
  diagnose timeline --since 2d -o markdown    the last two days, for a postmortem
  diagnose timeline --kql                     the queries, to paste in the portal
  diagnose timeline --evidence app.log        line the events up with a log's first errors
"""


@click.command(epilog=EXAMPLES)
@profile_options
@click.option(
    "--since",
    default=DEFAULT_SINCE,
    show_default=True,
    metavar="WHEN",
    help="Start of the window: an ISO 8601 time, or a duration back from now (7d, 12h, 90m).",
)
@click.option(
    "--kql",
    is_flag=True,
    help="Print every Log Analytics and Resource Graph query instead of running it (to paste "
    "in the portal); needs no credential.",
)
@click.option(
    "--evidence",
    "evidence",
    multiple=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    metavar="FILE",
    help="A log to line up with the events (diagnose explain's first sighting of each cause); repeatable.",
)
@output_option(TIMELINE)
@out_option("Write the timeline to FILE (in the --output format).")
@click.pass_context
def timeline(
    ctx: click.Context,
    config: Path | None,
    profile_name: str | None,
    lab_scenario: str | None,
    since: str,
    kql: bool,
    evidence: tuple[str, ...],
    output: str,
    out: Path | None,
) -> None:
    """What changed, who, and when: the services' own records as one timeline.

    Entra ID's audit log, the Activity Log, Resource Graph's resource changes, and Key Vault's
    and Cosmos DB's logs in Log Analytics, for the objects the profile names; the change
    before the first failure is named. Exit 0: no failure recorded; 1: failures recorded;
    2: usage; 3: a source could not answer (and nothing failed).
    """
    from diagnose.render import timeline as render
    from diagnose.usecases import timeline as usecase

    now = window_end()
    start = parse_since(since, now)
    with open_profile(config, profile_name, lab_scenario) as profile:
        if kql:
            found = usecase.queries(profile, start, now)
            emit(render.render_kql(found, usecase.kql_notes(profile)), out)
            return
        result = usecase.build(profile, start, now, evidence=evidence)
    style = styler(output) if out is None else styler("json")
    emit(TIMELINE(output)(result, style), out)
    ctx.exit(int(usecase.exit_status(result)))
