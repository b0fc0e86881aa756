"""`--table`, `--campaign` and `--execution` never become SQL: validated (exit 2), then quoted/escaped."""

from __future__ import annotations

import pytest

from tests.delays import handmade
from tests.delays.conftest import TABLE, run_delays


def test_table_cannot_inject_statements_into_duckdb(tmp_path):
    source = handmade.write_csv(tmp_path / "fb.csv")
    pwned = tmp_path / "pwn.csv"
    table = f"x\" AS SELECT 1 AS a; COPY (SELECT 42 AS p) TO '{pwned}'; CREATE VIEW \"z"
    res = run_delays(source, "--table", table)
    assert res.exit_code == 2
    assert "--table" in res.stderr and "not a table name" in res.stderr
    assert not pwned.exists()


@pytest.mark.parametrize("table", [".", 'x"y', "x --", "1abc", "a..b", "a.", "x;y", ""])
def test_bad_table_names_are_exit_2_without_traceback(tmp_path, table):
    source = handmade.write_csv(tmp_path / "fb.csv")
    res = run_delays(source, "--table", table)
    assert res.exit_code == 2, res.stderr
    assert "not a table name" in res.stderr and "Traceback" not in res.stderr


def test_local_source_ignores_a_valid_table_name(tmp_path):
    source = handmade.write_csv(tmp_path / "fb.csv")
    res = run_delays(source, "--table", "some_schema.some_table", "--delay-rate", "1")
    assert res.exit_code == 0, res.stderr


def test_server_table_is_validated_and_may_be_qualified(pg, pg_urls):
    res = run_delays(pg_urls["healthy"], "--table", "x --")
    assert res.exit_code == 2 and "not a table name" in res.stderr
    # schema.table reaches the server as two identifiers
    res = run_delays(pg.url(), "--table", f"delays_healthy.{TABLE}", "--output", "json")
    assert res.exit_code == 0, res.stderr
    assert res.json()["events"] > 0


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--campaign", "camp-1' OR '1'='1"),
        ("--campaign", "a b"),
        ("--execution", "UMA-1;DROP"),
        ("--execution", "x" * 129),
        ("--execution", ""),
    ],
)
def test_filter_ids_are_whitelisted(tmp_path, flag, value):
    source = handmade.write_csv(tmp_path / "fb.csv")
    res = run_delays(source, flag, value)
    assert res.exit_code == 2
    assert "not an id" in res.stderr


def test_ids_of_the_usual_forms_are_accepted(tmp_path):
    source = handmade.write_csv(tmp_path / "fb.csv")
    res = run_delays(
        source,
        "--campaign",
        "10a05352-5768-587d-aee5-4a20a512a485",
        "--execution",
        "UMA-00859153",
    )
    assert res.exit_code == 2 and "no feedback events match" in res.stderr
    res = run_delays(source, "--campaign", "camp-1", "--execution", "UMA-1", "--delay-rate", "1")
    assert res.exit_code == 0, res.stderr


@pytest.mark.parametrize("table", ["select", "from", "a.b.c", "user"])
def test_keyword_like_table_names_give_a_clear_answer_on_the_server(pg_urls, table):
    res = run_delays(pg_urls["healthy"], "--table", table)
    assert res.exit_code in (2, 3), res.stderr
    assert res.stderr.startswith("Error:") and "Traceback" not in res.stderr
    assert not res.stderr.rstrip().endswith("^")  # the server's message, not its caret line
