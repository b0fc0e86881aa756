"""Every spelling of a PostgreSQL connection string reaches the server; none leaks its password."""

from __future__ import annotations

import socket

import pytest

from tests.delays.conftest import run_delays

SECRET = "Hunter2x-Secret"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "scheme", ["postgres://", "POSTGRESQL://", "PostgreSQL://", "postgresql+psycopg2://"]
)
def test_url_schemes_reach_the_server(pg, pg_urls, scheme):
    url = pg_urls["healthy"].replace("postgresql://", scheme, 1)
    res = run_delays(url, "--output", "json")
    assert res.exit_code == 0, res.stderr
    assert res.json()["source"]["kind"] == "server"
    assert pg.password not in res.stdout + res.stderr


def test_keyword_form_reaches_the_server(pg):
    conninfo = (
        f"host={pg.host} port={pg.port} user={pg.user} password={pg.password} "
        f"dbname={pg.dbname} options='-csearch_path=delays_healthy'"
    )
    res = run_delays(conninfo, "--output", "json")
    assert res.exit_code == 0, res.stderr
    assert res.json()["source"]["kind"] == "server"
    assert pg.password not in res.stdout + res.stderr


@pytest.mark.parametrize(
    "source",
    [
        "postgresql+psycopg2://bob:{secret}@127.0.0.1:{port}/db",
        "POSTGRESQL://bob:{secret}@127.0.0.1:{port}/db",
        "postgres://bob:{secret}@127.0.0.1:{port}/db",
        "host=127.0.0.1 port={port} user=bob password={secret}",
        "host=127.0.0.1 port={port} user=bob password='{secret} two'",
        "postgresql://127.0.0.1:{port}/db?user=bob&password={secret}",
    ],
)
def test_unreachable_server_in_any_spelling_is_exit_3_without_the_password(source):
    res = run_delays(source.format(secret=SECRET, port=_closed_port()), "--connect-timeout", "2")
    assert res.exit_code == 3, res.stderr
    assert "cannot connect" in res.stderr
    assert SECRET not in res.stdout + res.stderr


@pytest.mark.parametrize(
    "source",
    [
        "postgresql://bob:p@ss{secret}@127.0.0.1:1/db",
        "postgresql://bob:p/ss{secret}@127.0.0.1:1/db",
        "postgres://bob:{secret}@x@127.0.0.1:1/db",
    ],
)
def test_raw_at_or_slash_in_the_password_is_refused_unechoed(source):
    res = run_delays(source.format(secret=SECRET))
    assert res.exit_code == 2
    assert "not a valid postgresql:// URL" in res.stderr and "%40" in res.stderr
    assert SECRET not in res.stdout + res.stderr and "ss" + SECRET not in res.stderr


def test_encoded_at_in_the_password_is_fine():
    """The reverse: a percent-encoded '@' is the right spelling, accepted (then unreachable)."""
    res = run_delays(f"postgresql://bob:p%40ss{SECRET}@127.0.0.1:{_closed_port()}/db")
    assert res.exit_code == 3 and SECRET not in res.stderr


@pytest.mark.parametrize(
    "source",
    [
        "mysql://bob:{secret}@127.0.0.1/db",
        "https://bob:{secret}@example.com/export.parquet",
        "/no/such/dir/password={secret}.parquet",
    ],
)
def test_other_sources_never_echo_a_password(source):
    res = run_delays(source.format(secret=SECRET))
    assert res.exit_code == 2
    assert SECRET not in res.stdout + res.stderr


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("postgresql://u:{secret}@127.0.0.1:notaport/db", "not a port number"),
        ("postgresql://u:{secret}@127.0.0.1:99999/db", "not a port number"),
        ("postgresql://u:{secret}@127.0.0.1:1/db?sslmode=bogus", "sslmode 'bogus'"),
        ("postgresql://u:{secret}@127.0.0.1:1/db?gssencmode=zz", "gssencmode"),
        ("host=127.0.0.1 port=x password={secret}", "not a port number"),
    ],
)
def test_bad_port_or_ssl_option_is_a_configuration_error(source, message):
    res = run_delays(source.format(secret=SECRET), "--connect-timeout", "2")
    assert res.exit_code == 2, res.stderr
    assert message in res.stderr and SECRET not in res.stderr


@pytest.mark.parametrize(
    "source",
    [
        "host=127.0.0.1 password='{secret}",
        "host=127.0.0.1 password={secret} bogus=1",
        "dbname=x password={secret} host",
    ],
)
def test_malformed_keyword_form_is_exit_2_without_the_password(source):
    res = run_delays(source.format(secret=SECRET))
    assert res.exit_code == 2
    assert "not a valid connection string (key=value)" in res.stderr
    assert SECRET not in res.stdout + res.stderr


def test_sslpassword_is_kept_secret_too():
    res = run_delays(
        f"host=127.0.0.1 port={_closed_port()} sslpassword={SECRET}", "--connect-timeout", "2"
    )
    assert res.exit_code == 3 and SECRET not in res.stdout + res.stderr


def test_forgotten_host_does_not_echo_the_password_as_a_port():
    res = run_delays(f"postgresql://bob:{SECRET}/db")
    assert res.exit_code == 2 and "not a port number" in res.stderr
    assert SECRET not in res.stdout + res.stderr
