"""The server path against a real PostgreSQL server (Query Service's protocol).

The data are loaded flat (one quoted dotted column per field, as CSV/Parquet
exports have them) into a table named as the dataset, one schema per dataset.
"""

from __future__ import annotations

import pytest

from tests.delays import handmade
from tests.delays.conftest import by_group, run_delays
from tests.harness import run_cli

MEASURE_KEYS = ("p50", "p90", "p99", "max")


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 0.01 * max(abs(a), abs(b)) + 0.005


@pytest.mark.parametrize("name", ["upstream", "downstream"])
def test_server_and_local_agree_within_one_percent(datasets, pg_urls, name):
    ds = datasets[name]
    server = run_delays(pg_urls[name], "--trigger-log", ds.trigger_log, "--output", "json")
    assert server.exit_code == 1, server.stderr
    assert server.json()["source"]["dialect"] == "postgres"
    assert server.json()["source"]["kind"] == "server"
    assert pg_urls[name].split("@")[0].split(":")[-1] not in server.stdout  # the password
    for local_file in (ds.file("csv"), ds.file("parquet")):
        local = run_delays(local_file, "--trigger-log", ds.trigger_log, "--output", "json")
        assert local.json()["source"]["dialect"] == "duckdb"
        lg, sg = by_group(local.json()), by_group(server.json())
        assert lg.keys() == sg.keys()
        for key, group in lg.items():
            assert sg[key]["counts"] == group["counts"]
            assert sg[key]["verdict"] == group["verdict"]
            assert sg[key]["percentiles"].keys() == group["percentiles"].keys()
            for measure, figures in group["percentiles"].items():
                other = sg[key]["percentiles"][measure]
                assert other["count"] == figures["count"]
                for k in MEASURE_KEYS:
                    assert _close(figures[k], other[k]), (key, measure, k, figures[k], other[k])
        assert [e["execution"] for e in server.json()["slowest_executions"]][:3] == [
            e["execution"] for e in local.json()["slowest_executions"]
        ][:3]


def test_server_verdict_names_the_injected_campaign(datasets, pg_urls):
    ds = datasets["upstream"]
    res = run_delays(pg_urls["upstream"], "--output", "json")
    assert res.exit_code == 1
    verdicts = {g["campaign"]: g["verdict"] for g in res.json()["groups"]}
    assert verdicts.pop(ds.info["injected_campaign"]) == "upstream"
    assert set(verdicts.values()) == {"none"}
    assert res.json()["diagnosis"][0]["code"] == "delays.upstream"


def test_server_handmade_figures(pg, tmp_path):
    url = pg.load("delays_handmade", handmade.write_csv(tmp_path / "fb.csv"))
    trig = handmade.write_triggers(tmp_path / "t.csv")
    res = run_delays(url, "--trigger-log", trig, "--delay-rate", "0.5", "--output", "json")
    assert res.exit_code == 0, res.stderr
    (group,) = res.json()["groups"]
    assert group["counts"] == handmade.EXPECTED_COUNTS
    for measure, expected in handmade.EXPECTED.items():
        for key, value in expected.items():
            assert group["percentiles"][measure][key] == pytest.approx(value, abs=1e-6)


def test_server_with_pg_variables_and_plot(pg, pg_urls, datasets, tmp_path):
    env = {
        "PGHOST": pg.host,
        "PGPORT": str(pg.port),
        "PGUSER": pg.user,
        "PGPASSWORD": pg.password,
        "PGDATABASE": pg.dbname,
        "PGOPTIONS": "-csearch_path=delays_healthy",
    }
    plot = tmp_path / "server.svg"
    res = run_delays("postgresql://", "--plot", plot, env=env)
    assert res.exit_code == 0, res.stderr
    assert plot.read_text().count('class="series"') >= 4
    assert pg.password not in res.stdout + res.stderr


def test_wrong_password_is_exit_3_without_the_password(pg):
    if not pg.own:
        pytest.skip("DIAGNOSE_TEST_PG_URL: its authentication is not ours to know")
    wrong = "not-the-Secret-42"
    res = run_delays(pg.url(password=wrong))
    assert res.exit_code == 3
    assert "refused the credentials" in res.stderr
    assert wrong not in res.stdout + res.stderr
    # and with PGPASSWORD
    res = run_delays(
        f"postgresql://{pg.user}@{pg.host}:{pg.port}/{pg.dbname}", env={"PGPASSWORD": wrong}
    )
    assert res.exit_code == 3 and wrong not in res.stdout + res.stderr


def test_missing_table_and_missing_column_on_the_server(pg, pg_urls, tmp_path):
    res = run_delays(pg_urls["healthy"], "--table", "no_such_table")
    assert res.exit_code == 2
    assert "no table 'no_such_table'" in res.stderr
    url = pg.load("delays_nomsg", handmade.write_csv(tmp_path / "fb.csv", drop=handmade.MESSAGE))
    res = run_delays(url)
    assert res.exit_code == 2
    assert handmade.MESSAGE in res.stderr and "missing column" in res.stderr
    assert pg.password not in res.stderr


def test_slow_server_query_is_cancelled_at_the_deadline(pg, pg_urls):
    import time

    import psycopg

    with psycopg.connect(pg.url(), autocommit=True) as con:
        con.execute("DROP SCHEMA IF EXISTS delays_slow CASCADE")
        con.execute("CREATE SCHEMA delays_slow")
        con.execute(
            "CREATE VIEW delays_slow.ajo_message_feedback_event_dataset AS "
            "SELECT t.* FROM delays_healthy.ajo_message_feedback_event_dataset AS t, pg_sleep(30)"
        )
    started = time.monotonic()
    res = run_delays(pg.url("delays_slow"), "--query-timeout", "1")
    assert time.monotonic() - started < 20
    assert res.exit_code == 3
    assert "ran past --query-timeout (1 s)" in res.stderr


def test_locked_table_is_cancelled_at_the_deadline(pg, pg_urls):
    """Another session holds the table ACCESS EXCLUSIVE: the probes wait on the lock, and
    every statement (probes and settings too) runs under the --query-timeout cancel timer."""
    import subprocess
    import time

    import psycopg

    with psycopg.connect(pg.url(), autocommit=True) as con:
        con.execute("DROP SCHEMA IF EXISTS delays_locked CASCADE")
        con.execute("CREATE SCHEMA delays_locked")
        con.execute(
            "CREATE TABLE delays_locked.ajo_message_feedback_event_dataset AS "
            "SELECT * FROM delays_healthy.ajo_message_feedback_event_dataset LIMIT 10"
        )
    with psycopg.connect(pg.url()) as locker:
        locker.execute(
            "LOCK TABLE delays_locked.ajo_message_feedback_event_dataset IN ACCESS EXCLUSIVE MODE"
        )
        started = time.monotonic()
        try:  # the real binary, so that a hang fails the test instead of stalling the run
            proc = run_cli("delays", pg.url("delays_locked"), "--query-timeout", "2", timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("diagnose delays hung past --query-timeout 2 on a locked table")
        finally:
            locker.rollback()
        elapsed = time.monotonic() - started
    assert proc.exit_code == 3, proc.stderr
    assert "ran past --query-timeout (2 s)" in proc.stderr
    assert pg.password not in proc.stderr
    assert elapsed < 15


class _OneConnectionProxy:
    """A TCP relay to the real server that serves its first connection only.

    Later connections (libpq's cancel requests) are closed unanswered: a server
    that ignores cancel requests, in front of a real PostgreSQL.
    """

    def __init__(self, host: str, port: int) -> None:
        import socket
        import threading

        self.target = (host, port)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.served = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.served += 1
            if self.served > 1:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                s.close()  # closing a closed socket is a no-op

    def close(self) -> None:
        self.listener.close()


def test_server_that_ignores_cancel_still_ends_near_the_deadline(pg, pg_urls):
    import threading
    import time

    import psycopg

    with psycopg.connect(pg.url(), autocommit=True) as con:
        con.execute("DROP SCHEMA IF EXISTS delays_nocancel CASCADE")
        con.execute("CREATE SCHEMA delays_nocancel")
        con.execute(
            "CREATE TABLE delays_nocancel.ajo_message_feedback_event_dataset AS "
            "SELECT * FROM delays_healthy.ajo_message_feedback_event_dataset LIMIT 10"
        )
    proxy = _OneConnectionProxy(pg.host, pg.port)
    url = pg.url("delays_nocancel").replace(f":{pg.port}/", f":{proxy.port}/")
    try:
        with psycopg.connect(pg.url()) as locker:
            locker.execute(
                "LOCK TABLE delays_nocancel.ajo_message_feedback_event_dataset "
                "IN ACCESS EXCLUSIVE MODE"
            )
            # without the fix the command would wait on the lock: release it at 25 s, so
            # that such a run fails on the elapsed time instead of hanging the suite
            release = threading.Timer(25, locker.rollback)
            release.start()
            started = time.monotonic()
            try:
                res = run_delays(url, "--query-timeout", "1")
            finally:
                elapsed = time.monotonic() - started
                release.cancel()
                locker.rollback()
    finally:
        proxy.close()
    assert proxy.served >= 2  # the cancel request came, and went unanswered
    assert res.exit_code == 3, res.stderr
    assert "ran past --query-timeout (1 s)" in res.stderr
    assert "ignored the cancel request" in res.stderr
    assert pg.password not in res.stderr
    assert elapsed < 20
