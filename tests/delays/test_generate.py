"""The synthetic data generator: seeded, realistic fields, the injected delay where asked."""

from __future__ import annotations

import duckdb

from diagnose.delays import generate


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    spec = generate.Spec(events=2000, seed=5, inject="downstream")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    generate.write(a, spec, "csv")
    generate.write(b, spec, "csv")
    # the same events (rows are written in parallel, so compare them as a set)
    assert sorted(a.read_text().splitlines()) == sorted(b.read_text().splitlines())
    c = tmp_path / "c.csv"
    generate.write(c, generate.Spec(events=2000, seed=6, inject="downstream"), "csv")
    assert sorted(c.read_text().splitlines()) != sorted(a.read_text().splitlines())


def test_fields_statuses_and_size(tmp_path):
    path = tmp_path / "g.parquet"
    generate.write(path, generate.Spec(events=20_000, seed=3), "parquet")
    con = duckdb.connect()
    rows = con.execute(
        f"""SELECT "_experience.customerJourneyManagement.messageDeliveryfeedback.feedbackStatus" AS s,
                   count(*) FROM read_parquet('{path}') GROUP BY s"""
    ).fetchall()
    counts = dict(rows)
    assert set(counts) == {"sent", "delivered", "delay", "bounce", "error", "exclude"}
    assert 19_000 < sum(counts.values()) < 21_000
    columns = [
        r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    ]
    assert "timestamp" in columns
    assert "_experience.customerJourneyManagement.messageExecution.messageExecutionID" in columns
    ids = con.execute(
        f"""SELECT min("_experience.customerJourneyManagement.messageExecution.messageExecutionID")
            FROM read_parquet('{path}')"""
    ).fetchone()[0]
    assert ids.startswith("UMA-")
