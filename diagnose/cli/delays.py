"""`diagnose delays SOURCE`: where delivery time goes, from the message feedback dataset."""

from __future__ import annotations

from pathlib import Path

import click

from diagnose import progress
from diagnose.model import Severity
from diagnose.render.choose import DELAYS, emit, output_option, styler


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


EXAMPLES = """\b
Examples:
  diagnose delays feedback.parquet                     a local export of the dataset
  diagnose delays 'exports/*.json' --campaign CAMPAIGN_ID --since 2026-11-20
  diagnose delays feedback.parquet --plot delays.svg -o json
  diagnose delays 'postgresql://USER@HOST:80/prod:all?sslmode=require'
"""


@click.command(epilog=EXAMPLES)
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
@output_option(DELAYS)
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
def delays(
    ctx: click.Context,
    source: str,
    campaign: tuple[str, ...],
    execution: tuple[str, ...],
    since: str | None,
    until: str | None,
    trigger_log: Path | None,
    output: str,
    plot: Path | None,
    fail_on: str,
    upstream_threshold: float,
    downstream_threshold: float,
    delay_rate: float,
    send_rate: float,
    percentile: str,
    top: int,
    table: str,
    dialect: str,
    connect_timeout: float,
    query_timeout: float,
) -> None:
    """Find where delivery time goes: before departure (campaign side) or after it (downstream).

    SOURCE is a local export of the message feedback dataset (Parquet, JSON lines
    or CSV: a file, a folder or a glob), analysed in process with DuckDB, or a
    PostgreSQL connection string (Query Service): a postgresql:// URL (also
    postgres://, any case, +driver ignored; `postgresql://` alone uses the PG*
    variables) or libpq's `host=... dbname=...` form; the analysis runs on the
    server. Percent-encode '@' (%40) and '/' (%2F) in a password.
    """
    from diagnose.delays.analysis import Filters
    from diagnose.delays.verdict import Thresholds
    from diagnose.usecases.delays import Request, build, write_plot

    request = Request(
        source=source,
        filters=Filters(
            tuple(campaign),
            tuple(execution),
            _epoch(since, "--since"),
            _epoch(until, "--until"),
        ),
        thresholds=Thresholds(
            upstream=upstream_threshold,
            downstream=downstream_threshold,
            delay_rate=delay_rate,
            percentile=percentile,
            send_rate=send_rate,
        ),
        trigger_log=trigger_log,
        top=top,
        plot=plot,
        table=table,
        dialect=dialect,
        connect_timeout=connect_timeout,
        query_timeout=query_timeout,
        fail_on=Severity(fail_on),
    )
    with progress.working(lambda: "analysing delivery delays (Ctrl-C stops)"):
        report = build(request)
    emit(DELAYS(output)(report, styler(output)))
    if plot:
        write_plot(report, plot)
        click.echo(f"plot written to {plot}", err=True)
    ctx.exit(int(report.exit_status))
