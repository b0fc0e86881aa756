"""`diagnose delays SOURCE`: where delivery time goes, from the message feedback dataset."""

from __future__ import annotations

from pathlib import Path

import click

from diagnose.errors import InputError
from diagnose.exitstatus import ExitStatus


def _finite(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """Reject nan and inf, which a FloatRange lets through (nan compares false with any bound)."""
    import math

    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value!r} is not a finite number", ctx=ctx, param=param)
    return value


def _epoch(value: str | None, flag: str) -> float | None:
    if value is None:
        return None
    from diagnose.delays.triggers import parse_time

    return parse_time(value, flag)


@click.command()
@click.argument("source")
@click.option("--campaign", multiple=True, help="Only this campaign id (repeatable).")
@click.option("--execution", multiple=True, help="Only this execution id, UMA-... (repeatable).")
@click.option("--since", help="Only events at or after this time (ISO-8601; naive = UTC).")
@click.option("--until", help="Only events before this time (ISO-8601; naive = UTC).")
@click.option(
    "--trigger-log",
    type=click.Path(path_type=Path, dir_okay=False),
    help="CSV or JSON lines with executionId and requestedAt: measure trigger -> departure.",
)
@click.option(
    "--output", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True
)
@click.option(
    "--plot",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the delays over time to FILE (.html or .svg).",
)
@click.option("--fail-on", type=click.Choice(["fail", "warn"]), default="fail", show_default=True)
@click.option(
    "--upstream-threshold",
    type=click.FloatRange(min=0, min_open=True),
    callback=_finite,
    default=300.0,
    show_default=True,
    help="Seconds before departure judged abnormal.",
)
@click.option(
    "--downstream-threshold",
    type=click.FloatRange(min=0, min_open=True),
    callback=_finite,
    default=900.0,
    show_default=True,
    help="Seconds from departure to delivered judged abnormal.",
)
@click.option(
    "--delay-rate",
    type=click.FloatRange(min=0, min_open=True),
    callback=_finite,
    default=0.05,
    show_default=True,
    help="Share of delay events per sent message judged abnormal.",
)
@click.option(
    "--send-rate",
    type=click.FloatRange(min=0, min_open=True),
    callback=_finite,
    default=500.0,
    show_default=True,
    help="Messages/s an execution may take to depart: without a trigger log, an execution of "
    "n messages may spread over (n-1)/rate s before it counts as upstream delay.",
)
@click.option(
    "--percentile",
    type=click.Choice(["p50", "p90", "p99"]),
    default="p90",
    show_default=True,
    help="Percentile compared with the thresholds.",
)
@click.option(
    "--top",
    type=click.IntRange(min=0, max=10_000),
    default=10,
    show_default=True,
    help="How many slowest executions to list.",
)
@click.option(
    "--table",
    default="ajo_message_feedback_event_dataset",
    show_default=True,
    help="Dataset table on the server.",
)
@click.option(
    "--dialect",
    type=click.Choice(["auto", "postgres", "spark"]),
    default="auto",
    show_default=True,
    help="Server SQL: auto picks spark for Query Service hosts.",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0, min_open=True),
    callback=_finite,
    default=10.0,
    show_default=True,
    help="Seconds to wait for the server.",
)
@click.option(
    "--query-timeout",
    type=click.FloatRange(min=0, min_open=True),
    callback=_finite,
    default=900.0,
    show_default=True,
    help="Seconds one server query may run before it is cancelled (exit 3).",
)
@click.pass_context
def delays(ctx: click.Context, source: str, **opts) -> None:
    """Find where delivery time goes: before departure (campaign side) or after it (downstream).

    SOURCE is a local export of the message feedback dataset (Parquet, JSON lines
    or CSV: a file, a folder or a glob), analysed in process with DuckDB, or a
    PostgreSQL connection string (Query Service): a postgresql:// URL (also
    postgres://, any case, +driver ignored; `postgresql://` alone uses the PG*
    variables) or libpq's `host=... dbname=...` form; the analysis runs on the
    server. Percent-encode '@' (%40) and '/' (%2F) in a password.
    """
    from diagnose.delays import plot as plotting
    from diagnose.delays.analysis import Filters, check_ids, check_table
    from diagnose.delays.verdict import Thresholds
    from diagnose.model import Severity
    from diagnose.render import delays as render
    from diagnose.usecases.delays import Request, build

    check_table(opts["table"])
    check_ids(tuple(opts["campaign"]), "--campaign")
    check_ids(tuple(opts["execution"]), "--execution")
    since, until = _epoch(opts["since"], "--since"), _epoch(opts["until"], "--until")
    if since is not None and until is not None and since >= until:
        raise InputError("--since must be before --until")
    if opts["plot"]:
        plotting.check_target(opts["plot"])
    if opts["trigger_log"] and not opts["trigger_log"].is_file():
        raise InputError(f"--trigger-log {opts['trigger_log']}: no such file")
    thresholds = Thresholds(
        upstream=opts["upstream_threshold"],
        downstream=opts["downstream_threshold"],
        delay_rate=opts["delay_rate"],
        percentile=opts["percentile"],
        send_rate=opts["send_rate"],
    )
    request = Request(
        source=source,
        filters=Filters(tuple(opts["campaign"]), tuple(opts["execution"]), since, until),
        thresholds=thresholds,
        trigger_log=opts["trigger_log"],
        top=opts["top"],
        timeline=bool(opts["plot"]),
        table=opts["table"],
        dialect=opts["dialect"],
        connect_timeout=opts["connect_timeout"],
        query_timeout=opts["query_timeout"],
        fail_on=Severity(opts["fail_on"]),
    )
    report = build(request)
    renderer = {"text": render.to_text, "json": render.to_json, "markdown": render.to_markdown}
    click.echo(renderer[opts["output"]](report))
    if opts["plot"]:
        a = report.analysis
        listed = ", ".join(f"{g.campaign} {g.channel}: {g.verdict}" for g in a.groups)
        worst: dict[str, str] = {}
        for g in a.groups:  # a campaign on several channels: its abnormal verdict wins
            if worst.get(g.campaign, "none") == "none":
                worst[g.campaign] = g.verdict
        plotting.write(
            opts["plot"],
            a.timeline,
            thresholds,
            title=f"Delivery delays - {report.source['description']}",
            summary=f"{a.events:,} events. Verdicts: {listed}.",
            verdicts=worst,
        )
        click.echo(f"plot written to {opts['plot']}", err=True)
    ctx.exit(int(ExitStatus.FINDINGS if report.status == "fail" else ExitStatus.OK))
