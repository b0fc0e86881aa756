"""The analysis rendered per dialect: Query Service (Spark SQL) as text against expected queries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot

from diagnose.delays.analysis import QUERIES, Filters, Plan, render
from diagnose.delays.fields import FIELDS, Resolved
from diagnose.delays.server import dialect_for
from tests.delays import handmade
from tests.delays.conftest import run_delays

EXPECTED = Path(__file__).parent / "expected"
NESTED = Resolved({f.name: "nested" for f in FIELDS}, {})
PLAN = Plan(
    NESTED,
    "ajo_message_feedback_event_dataset",
    Filters(
        campaigns=("10a05352-5768-587d-aee5-4a20a512a485",),
        since=1795161600.0,
        until=1795183200.0,
    ),
    triggers=(("UMA-000000001", 1795161643.2), ("UMA-'quoted", 1795161700.0)),
)
PARAMS = {"timeline": {"origin": 1795161600.0, "width": 360.0}}


@pytest.mark.parametrize("name", ["percentiles", "counts", "timeline"])
def test_query_service_sql_is_the_expected_text(name):
    expected = (EXPECTED / f"spark_{name}.sql").read_text()
    assert render(PLAN, name, "spark", **PARAMS.get(name, {})) + "\n" == expected


@pytest.mark.parametrize("name", list(QUERIES))
def test_query_service_sql_is_spark_sql(name):
    text = render(PLAN, name, "spark", **PARAMS.get(name, {}))
    # nested field paths as Query Service names them, never quoted dotted names
    assert "_experience.customerJourneyManagement.messageExecution.campaignID" in text
    assert '"' not in text
    for dialect_only in ("QUANTILE_CONT", "PERCENTILE_CONT", "EPOCH(", "DATE_PART", "TIMESTAMPTZ"):
        assert dialect_only not in text
    if "QUANTILE_CONT" in QUERIES[name]:
        assert re.search(r"PERCENTILE_APPROX\(.+?, 0\.9\)", text, re.S)
    # it parses as Spark SQL and renders back identically
    assert sqlglot.transpile(text, read="spark", write="spark", pretty=True)[0] == text


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("( ", "(").replace(" )", ")")


def test_postgres_and_duckdb_renderings_differ_where_they_must():
    pg = _flat(render(PLAN, "percentiles", "postgres"))
    assert "PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY seconds)" in pg
    assert '("_experience")."customerJourneyManagement"."messageExecution"."campaignID"' in pg
    assert "DATE_PART('epoch', ts)" in pg
    duck = _flat(render(PLAN, "percentiles", "duckdb"))
    assert "QUANTILE_CONT(seconds, 0.9)" in duck and "EPOCH(ts)" in duck
    flat = Plan(Resolved({f.name: "flat" for f in FIELDS}, {}), "t")
    assert '"_experience.customerJourneyManagement.messageExecution.campaignID"' in render(
        flat, "counts", "duckdb"
    )


def test_no_trigger_log_no_trigger_measure():
    text = render(Plan(NESTED, "t"), "percentiles", "spark")
    assert "triggers" not in text and "trigger_to_departure" not in text


def test_dialect_is_chosen_by_host():
    assert dialect_for("postgresql://u@acme.platform-query.adobe.io:80/prod:all") == "spark"
    assert dialect_for("postgresql://u@127.0.0.1:5432/db") == "postgres"
    assert dialect_for("postgresql://u@127.0.0.1:5432/db", "spark") == "spark"


HOSTILE = ("camp-1' OR '1'='1", "x\\' OR 1=1 --", "camp-1'; DROP TABLE t; --")


def _span_events(backend, values: tuple[str, ...]) -> int:
    from diagnose.delays.fields import resolve

    resolved = resolve(backend.probe, backend.describe(), prefer=backend.prefer)
    plan = Plan(resolved, backend.table, Filters(campaigns=values))
    return int(backend.fetch(render(plan, "span", backend.dialect))[0]["events"])


def test_filter_values_are_literals_not_sql(tmp_path, pg_urls):
    """The CLI refuses such values (exit 2); below it, the SQL holds them as literals on both engines."""
    from diagnose.delays.fields import TABLE
    from diagnose.delays.local import LocalBackend
    from diagnose.delays.server import ServerBackend

    source = handmade.write_csv(tmp_path / "fb.csv")
    for target in (source, pg_urls["healthy"]):
        res = run_delays(target, "--campaign", HOSTILE[0])
        assert res.exit_code == 2 and "not an id" in res.stderr
    local = LocalBackend(str(source), TABLE)
    server = ServerBackend(pg_urls["healthy"], TABLE)
    try:
        assert _span_events(local, ("camp-1",)) > 0
        assert _span_events(server, ()) > 0
        for value in HOSTILE:
            assert _span_events(local, (value,)) == 0, value
            assert _span_events(server, (value,)) == 0, value
    finally:
        local.close()
        server.close()
