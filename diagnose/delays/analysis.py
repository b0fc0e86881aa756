"""The delay analysis, written once as SQL and rendered per dialect with sqlglot.

The queries are authored in DuckDB's dialect over one canonical relation,
`feedback(ts, status, reason, execution_id, campaign_id, message_id, channel)`.
`feedback` itself is built per source: flat dotted column names or nested field
paths, filters as escaped literals, an optional trigger log as inline VALUES.
Then each query is rendered for `duckdb` (local exports), `postgres` (a
PostgreSQL server) or `spark` (Experience Platform Query Service, which speaks
PostgreSQL's protocol but runs Spark SQL: `percentile_approx`, nested paths).

Measures (seconds), one row per message and measure:
- `departure_spread`: a message's `sent` time minus the first `sent` of its
  execution (queueing/throttling inside the campaign, no trigger log needed);
- `trigger_to_departure`: `sent` time minus the execution's trigger time (only
  with a trigger log);
- `departure_to_delivered|delay|bounce`: a feedback event's time minus the `sent`
  time of the same messageID.

The `upstream` query sums up the executions per group for the verdict without a
trigger log: how many executions, how many sent a single message, the largest
spread, and percentiles of the spread *beyond the send-rate allowance*: a
message's spread minus (messages in its execution - 1) / send rate, the time a
campaign sending at that rate needs to let the whole execution depart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from diagnose.delays.fields import FIELDS, FLAT, Resolved
from diagnose.errors import InputError

DIALECTS = ("duckdb", "postgres", "spark")

# histogram bins of the seconds measures: upper edges (the last bin is open)
BIN_EDGES: tuple[float, ...] = (1, 10, 60, 300, 900, 3600, 14400)
BIN_LABELS: tuple[str, ...] = ("<1s", "1-10s", "10s-1m", "1-5m", "5-15m", "15m-1h", "1-4h", ">4h")


# `--table`: plain identifiers, optionally qualified (schema.table, catalog.schema.table)
TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
# `--campaign` / `--execution`: ids such as UUIDs and UMA-00859153 (escaped as literals as well)
ID_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


def check_table(name: str) -> str:
    """`name` when it is a plain (optionally dotted) identifier; InputError otherwise."""
    if not TABLE_NAME.fullmatch(name):
        raise InputError(
            f"--table {name!r}: not a table name (letters, digits and '_', "
            "not starting with a digit; parts separated by '.', e.g. schema.table)"
        )
    return name


def check_ids(values: tuple[str, ...], flag: str) -> tuple[str, ...]:
    """`values` when each looks like an id (letters, digits, '-', '_', '.', ':'); InputError otherwise."""
    for value in values:
        if not ID_VALUE.fullmatch(value):
            raise InputError(
                f"{flag} {value!r}: not an id (expected letters, digits, '-', '_', '.' or ':', "
                "up to 128 characters, e.g. a UUID or UMA-00859153)"
            )
    return values


@dataclass(frozen=True)
class Filters:
    campaigns: tuple[str, ...] = ()
    executions: tuple[str, ...] = ()
    since: float | None = None  # epoch seconds, inclusive
    until: float | None = None  # epoch seconds, exclusive


@dataclass(frozen=True)
class Plan:
    """Everything the SQL depends on (never the data itself)."""

    resolved: Resolved
    table: str
    filters: Filters = field(default_factory=Filters)
    triggers: tuple[tuple[str, float], ...] = ()  # (executionId, trigger epoch seconds)
    top: int = 10
    send_rate: float = 500.0  # messages/s an execution may take to depart (see "upstream")


def path_expr(path: str, layout: str, dialect: str) -> exp.Expression:
    """A field's column: one quoted dotted name (flat) or a chain of struct accesses (nested).

    Nested on PostgreSQL means composite types, whose fields are reached as
    `("_experience")."customerJourneyManagement"...` (quoted: the names are mixed case).
    """
    parts = path.split(".")
    if layout == FLAT or len(parts) == 1:
        return exp.column(exp.to_identifier(path, quoted=True))
    pg = dialect == "postgres"
    expr: exp.Expression = exp.column(exp.to_identifier(parts[0], quoted=pg))
    if pg:
        expr = exp.Paren(this=expr)
    for part in parts[1:]:
        expr = exp.Dot(this=expr, expression=exp.to_identifier(part, quoted=pg))
    return expr


def probe_sql(path: str, layout: str, table: str, dialect: str) -> str:
    """A query that binds one field and returns no rows: does the column exist, what type is it?"""
    try:
        query = exp.select(path_expr(path, layout, dialect).as_("probe")).from_(_table(table))
        return query.limit(0).sql(dialect=dialect)
    except sqlglot.errors.SqlglotError as exc:
        raise InputError(f"cannot build the SQL for table {table!r}: {exc}") from None


def _table(name: str) -> exp.Table:
    return exp.to_table(check_table(name))


def _feedback(plan: Plan, dialect: str) -> exp.Select:
    """The canonical relation over the source table, filters applied."""
    columns: list[exp.Expr] = []
    for f in FIELDS:
        layout = plan.resolved.layouts.get(f.name)
        if layout is None:
            value: exp.Expression = (
                exp.Literal.string("unknown") if f.name == "channel" else exp.null()
            )
        else:
            value = path_expr(f.path, layout, dialect)
        target = "TIMESTAMPTZ" if f.kind == "timestamp" else "VARCHAR"
        columns.append(exp.cast(value, target).as_(f.name))
    query = exp.select(*columns).from_(_table(plan.table))
    ts_column = path_expr(FIELDS[0].path, plan.resolved.required("ts"), dialect)
    ts = exp.TimeToUnix(this=exp.cast(ts_column, "TIMESTAMPTZ"))
    conditions: list[exp.Expression] = []
    flt = plan.filters
    by_name = {f.name: f for f in FIELDS}
    # the CLI admits ids only (check_ids); whatever the values, they are escaped literals here
    for name, values in (("campaign_id", flt.campaigns), ("execution_id", flt.executions)):
        if values:
            field_path = path_expr(by_name[name].path, plan.resolved.required(name), dialect)
            column = exp.cast(field_path, "VARCHAR")
            conditions.append(column.isin(*[exp.Literal.string(v) for v in values]))
    if flt.since is not None:
        conditions.append(exp.GTE(this=ts.copy(), expression=exp.Literal.number(flt.since)))
    if flt.until is not None:
        conditions.append(exp.LT(this=ts.copy(), expression=exp.Literal.number(flt.until)))
    for condition in conditions:
        query = query.where(condition, copy=False)
    return query


def _triggers(plan: Plan) -> exp.Select:
    rows = [
        exp.tuple_(exp.Literal.string(eid), exp.Literal.number(repr(float(at))))
        for eid, at in plan.triggers
    ]
    values = exp.Values(
        expressions=rows,
        alias=exp.TableAlias(
            this=exp.to_identifier("t"),
            columns=[exp.to_identifier("execution_id"), exp.to_identifier("requested")],
        ),
    )
    return exp.select("execution_id", "requested").from_(values)


_SENT = """
SELECT campaign_id, channel, execution_id, message_id, EPOCH(ts) AS departure
FROM feedback WHERE status = 'sent'
"""

_STARTS = """
SELECT execution_id, MIN(departure) AS first_departure FROM sent GROUP BY execution_id
"""

_MEASURES_SPREAD = """
SELECT s.campaign_id, s.channel, s.execution_id, s.departure, 'departure_spread' AS measure,
       s.departure - x.first_departure AS seconds
FROM sent AS s JOIN starts AS x ON s.execution_id = x.execution_id
"""

_MEASURES_TRIGGER = """
SELECT s.campaign_id, s.channel, s.execution_id, s.departure, 'trigger_to_departure' AS measure,
       s.departure - CAST(t.requested AS DOUBLE) AS seconds
FROM sent AS s JOIN triggers AS t ON s.execution_id = t.execution_id
"""

_MEASURES_FEEDBACK = """
SELECT s.campaign_id, s.channel, s.execution_id, s.departure, 'departure_to_' || f.status AS measure,
       EPOCH(f.ts) - s.departure AS seconds
FROM feedback AS f JOIN sent AS s ON f.message_id = s.message_id
WHERE f.status IN ('delivered', 'delay', 'bounce')
"""

QUERIES: dict[str, str] = {
    "span": """
SELECT COUNT(*) AS events, MIN(EPOCH(ts)) AS first_ts, MAX(EPOCH(ts)) AS last_ts FROM feedback
""",
    "counts": """
SELECT campaign_id, channel, status, COUNT(*) AS events
FROM feedback GROUP BY campaign_id, channel, status
""",
    "percentiles": """
SELECT campaign_id, channel, measure, COUNT(*) AS n,
       QUANTILE_CONT(seconds, 0.5) AS p50, QUANTILE_CONT(seconds, 0.9) AS p90,
       QUANTILE_CONT(seconds, 0.99) AS p99, MAX(seconds) AS max_seconds, {bin_sums}
FROM measures GROUP BY campaign_id, channel, measure
""",
    "slowest": """
SELECT campaign_id, channel, execution_id, first_departure, sent, departure_spread,
       trigger_to_departure, departure_to_delivered,
       GREATEST(COALESCE(departure_spread, 0), COALESCE(trigger_to_departure, 0))
         + COALESCE(departure_to_delivered, 0) AS worst
FROM (
  SELECT campaign_id, channel, execution_id, MIN(departure) AS first_departure,
         SUM(CASE WHEN measure = 'departure_spread' THEN 1 ELSE 0 END) AS sent,
         MAX(CASE WHEN measure = 'departure_spread' THEN seconds END) AS departure_spread,
         MAX(CASE WHEN measure = 'trigger_to_departure' THEN seconds END) AS trigger_to_departure,
         MAX(CASE WHEN measure = 'departure_to_delivered' THEN seconds END) AS departure_to_delivered
  FROM measures GROUP BY campaign_id, channel, execution_id
) AS per_execution
ORDER BY worst DESC, execution_id LIMIT {top}
""",
    "upstream": """
SELECT s.campaign_id, s.channel, COUNT(DISTINCT s.execution_id) AS executions,
       SUM(CASE WHEN x.n = 1 THEN 1 ELSE 0 END) AS single_executions,
       MAX(s.departure - x.first_departure) AS max_spread,
       QUANTILE_CONT(s.departure - x.first_departure - (x.n - 1) / {rate}, 0.5) AS e50,
       QUANTILE_CONT(s.departure - x.first_departure - (x.n - 1) / {rate}, 0.9) AS e90,
       QUANTILE_CONT(s.departure - x.first_departure - (x.n - 1) / {rate}, 0.99) AS e99
FROM sent AS s JOIN (
  SELECT execution_id, MIN(departure) AS first_departure, COUNT(*) AS n
  FROM sent GROUP BY execution_id
) AS x ON s.execution_id = x.execution_id
GROUP BY s.campaign_id, s.channel
""",
    "reasons": """
SELECT campaign_id, channel, status, reason, COUNT(*) AS events
FROM feedback WHERE reason IS NOT NULL AND reason <> ''
GROUP BY campaign_id, channel, status, reason
ORDER BY events DESC, reason LIMIT 200
""",
    "timeline": """
SELECT campaign_id, measure, bucket, COUNT(*) AS n, QUANTILE_CONT(seconds, 0.5) AS p50,
       QUANTILE_CONT(seconds, 0.9) AS p90, MAX(seconds) AS max_seconds
FROM (
  SELECT campaign_id, measure, seconds, FLOOR((departure - {origin}) / {width}) AS bucket
  FROM measures
) AS b
GROUP BY campaign_id, measure, bucket ORDER BY campaign_id, measure, bucket
""",
}


def _bin_sums() -> str:
    """Histogram counts as columns h0..hN of the percentiles query (one pass over the measures)."""
    edges = (None, *BIN_EDGES, None)
    sums = []
    for i, (lo, hi) in enumerate(zip(edges, edges[1:], strict=False)):
        conds = ([f"seconds >= {lo}"] if lo is not None else []) + (
            [f"seconds < {hi}"] if hi is not None else []
        )
        sums.append(f"SUM(CASE WHEN {' AND '.join(conds)} THEN 1 ELSE 0 END) AS h{i}")
    return ", ".join(sums)


def _with(plan: Plan, body: str, dialect: str) -> exp.Expr:
    """`body` with the CTEs it needs: feedback, sent, triggers, measures."""
    measures = [_MEASURES_SPREAD, _MEASURES_FEEDBACK]
    if plan.triggers:
        measures.insert(1, _MEASURES_TRIGGER)
    text = (
        "WITH feedback AS (SELECT 1), triggers AS (SELECT 1), "
        f"sent AS ({_SENT}), starts AS ({_STARTS}), "
        f"measures AS ({' UNION ALL '.join(measures)}) {body}"
    )
    tree = sqlglot.parse_one(text, read="duckdb")
    with_ = tree.find(exp.With)
    assert with_ is not None, "the text above starts with WITH"
    ctes = {cte.alias: cte for cte in with_.expressions}
    ctes["feedback"].set("this", _feedback(plan, dialect))
    uses_measures = "measures" in body
    if plan.triggers and uses_measures:
        ctes["triggers"].set("this", _triggers(plan))
    else:
        ctes["triggers"].pop()
    if not uses_measures:
        for name in ("measures", "starts", "sent"):
            if name != "sent" or "FROM sent" not in body:
                ctes[name].pop()
    return tree


def _spark(node: exp.Expression) -> exp.Expression:
    """Query Service (Spark SQL): approximate percentiles, epoch seconds as a DOUBLE cast."""
    if isinstance(node, exp.PercentileCont):
        return exp.ApproxQuantile(this=node.this, quantile=node.expression)
    if isinstance(node, exp.TimeToUnix):
        return exp.cast(node.this, "DOUBLE")
    return node


def render(plan: Plan, name: str, dialect: str, **params: float) -> str:
    """One named query of the analysis, as SQL text for `dialect`."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    rate = float(plan.send_rate)
    if not rate > 0 or rate == float("inf"):
        raise InputError(f"--send-rate {plan.send_rate!r}: expected a positive number")
    body = QUERIES[name].format(top=int(plan.top), bin_sums=_bin_sums(), rate=repr(rate), **params)
    try:
        tree = _with(plan, body, dialect)
        if dialect == "spark":
            tree = tree.transform(_spark)
        return tree.sql(dialect=dialect, pretty=True)
    except sqlglot.errors.SqlglotError as exc:
        raise InputError(f"cannot build the {name} query: {_first(exc)}") from None


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def names(with_timeline: bool) -> list[str]:
    """The queries one analysis runs, in order."""
    return [n for n in QUERIES if with_timeline or n != "timeline"]
