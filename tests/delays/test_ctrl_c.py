"""Ctrl-C inside a query, in a pseudo-terminal: exit 130, no traceback, and the query stopped.

DuckDB catches Ctrl-C itself and answers "Query interrupted"; PostgreSQL's query is
cancelled on the server. Neither is a failure of the source (it used to be a traceback
and exit 1).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from diagnose.delays import generate
from tests.harness import spawn_cli


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three million events: seconds of DuckDB work for the analysis."""
    path = tmp_path_factory.mktemp("big") / "feedback.parquet"
    generate.write(path, generate.Spec(events=3_000_000, seed=5), "parquet", "flat")
    return path


def _wait_for(found: Callable[[], object], what: str, within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    while not found():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} never happened")
        time.sleep(0.05)


def test_ctrl_c_inside_a_duckdb_query(big_export: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    child = spawn_cli("delays", str(big_export), env={"TMPDIR": str(scratch)}, no_color=True)
    # the scratch database exists once DuckDB is open: the analysis' queries follow at once
    _wait_for(lambda: any(scratch.glob("diagnose-delays-*/feedback.duckdb")), "DuckDB's start")
    time.sleep(0.3)
    child.sendintr()
    child.expect(pexpect.EOF, timeout=30)
    child.close()
    text = str(child.before)
    assert child.exitstatus == 130, text
    assert "Traceback" not in text and "Query interrupted" not in text
    assert "Interrupted" in text
    assert "Verdict" not in text and "verdict" not in text  # stopped before any report


def test_ctrl_c_inside_a_postgresql_query_cancels_it(pg, pg_urls) -> None:
    """The analysis waits on a lock another session holds; Ctrl-C: 130, and the server's query is gone."""
    import psycopg

    with psycopg.connect(pg.url(), autocommit=True) as con:
        con.execute("DROP SCHEMA IF EXISTS delays_ctrl_c CASCADE")
        con.execute("CREATE SCHEMA delays_ctrl_c")
        con.execute(
            "CREATE TABLE delays_ctrl_c.ajo_message_feedback_event_dataset AS "
            "SELECT * FROM delays_healthy.ajo_message_feedback_event_dataset LIMIT 10"
        )
    waiting = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = 'diagnose-delays' AND state = 'active'"
    )
    with psycopg.connect(pg.url(), autocommit=True) as watcher, psycopg.connect(pg.url()) as locker:
        locker.execute(
            "LOCK TABLE delays_ctrl_c.ajo_message_feedback_event_dataset IN ACCESS EXCLUSIVE MODE"
        )
        try:
            child = spawn_cli("delays", pg.url("delays_ctrl_c"), env={}, no_color=True)

            def active() -> int:
                row = watcher.execute(waiting).fetchone()
                return int(row[0]) if row else 0

            _wait_for(lambda: active() > 0, "the analysis' query on the server")
            child.sendintr()
            child.expect(pexpect.EOF, timeout=30)
            child.close()
            text = str(child.before)
            assert child.exitstatus == 130, text
            assert "Traceback" not in text and pg.password not in text
            _wait_for(lambda: active() == 0, "the cancel of the server's query", within_s=10)
        finally:
            locker.rollback()
