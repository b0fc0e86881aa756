"""Fixtures for `diagnose delays`: generated feedback data and a real PostgreSQL server.

The server is a throwaway cluster (initdb in a temp dir, as the `postgres` user
when running as root, listening on 127.0.0.1 with a free port and password
authentication), or the server of DIAGNOSE_TEST_PG_URL when that is set.
"""

from __future__ import annotations

import csv
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from diagnose.delays import generate
from tests.harness import CliResult, run_cli

TABLE = "ajo_message_feedback_event_dataset"

SPECS = {
    "upstream": generate.Spec(events=12_000, inject="upstream", inject_campaign=1, seed=11),
    "downstream": generate.Spec(events=12_000, inject="downstream", inject_campaign=2, seed=12),
    "healthy": generate.Spec(events=6_000, seed=13),
}


@dataclass
class Dataset:
    name: str
    spec: generate.Spec
    dir: Path

    def file(self, fmt: str = "parquet", layout: str = "flat") -> Path:
        suffix = {"parquet": "parquet", "jsonl": "jsonl", "csv": "csv"}[fmt]
        path = self.dir / f"{self.name}-{layout}.{suffix}"
        if not path.exists():
            generate.write(path, self.spec, fmt, layout)
        return path

    @property
    def trigger_log(self) -> Path:
        path = self.dir / f"{self.name}-triggers.csv"
        if not path.exists():
            generate.write_trigger_log(path, self.spec)
        return path

    @property
    def info(self) -> dict:
        return generate.summary(self.spec)


@pytest.fixture(scope="session")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Dataset]:
    root = tmp_path_factory.mktemp("feedback")
    return {name: Dataset(name, spec, root) for name, spec in SPECS.items()}


def run_delays(*args: str | Path, env: dict[str, str] | None = None) -> CliResult:
    """`diagnose delays ARGS…` through the harness (the installed CLI, a clean environment)."""
    return run_cli("delays", *args, env=env)


def by_group(doc: dict) -> dict[tuple[str, str], dict]:
    return {(g["campaign"], g["channel"]): g for g in doc["groups"]}


# --- PostgreSQL -------------------------------------------------------------------------


@dataclass
class PgServer:
    host: str
    port: int
    user: str
    password: str
    dbname: str
    own: bool  # a cluster this fixture started (so we know its authentication)

    def url(self, schema: str | None = None, password: str | None = None) -> str:
        pw = quote(self.password if password is None else password, safe="")
        url = f"postgresql://{quote(self.user, safe='')}:{pw}@{self.host}:{self.port}/{self.dbname}"
        if schema:
            url += f"?options=-csearch_path%3D{schema}"
        return url

    def load(self, schema: str, csv_file: Path) -> str:
        """Load a flat CSV export into `<schema>.ajo_message_feedback_event_dataset`; the URL for it.

        PostgreSQL cannot hold the flat layout: its identifiers stop at 63 bytes and
        the dotted field paths are longer. So the table is *nested*, as Query Service
        exposes the dataset: `_experience` is a composite type whose fields are
        composite types down to the leaves. The CSV goes to a staging table first.
        """
        import psycopg
        from psycopg import sql

        with csv_file.open(newline="") as fh:
            header = next(csv.reader(fh))
        ident = sql.Identifier
        staging = [f"c{i}" for i in range(len(header))]
        types: list[sql.Composable] = []

        def build(tree: dict, prefix: str) -> tuple[list[sql.Composable], list[sql.Composable]]:
            """(column definitions, values) of one level; composite types created bottom-up."""
            defs, values = [], []
            for name, sub in tree.items():
                if isinstance(sub, dict):
                    sub_defs, sub_values = build(sub, f"{prefix}{name}.")
                    tname = f"t{len(types)}"
                    types.append(
                        sql.SQL("CREATE TYPE {}.{} AS ({})").format(
                            ident(schema), ident(tname), sql.SQL(", ").join(sub_defs)
                        )
                    )
                    defs.append(
                        sql.SQL("{} {}.{}").format(ident(name), ident(schema), ident(tname))
                    )
                    values.append(
                        sql.SQL("ROW({})::{}.{}").format(
                            sql.SQL(", ").join(sub_values), ident(schema), ident(tname)
                        )
                    )
                else:
                    kind = "timestamptz" if prefix + name == "timestamp" else "text"
                    defs.append(sql.SQL("{} {}").format(ident(name), sql.SQL(kind)))
                    values.append(sql.SQL("{}::{}").format(ident(sub), sql.SQL(kind)))
            return defs, values

        tree: dict = {}
        for path, column in zip(header, staging, strict=True):
            *parents, leaf = path.split(".")
            node = tree
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = column
        defs, values = build(tree, "")
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident(schema)))
            con.execute(sql.SQL("CREATE SCHEMA {}").format(ident(schema)))
            for create in types:
                con.execute(create)
            con.execute(
                sql.SQL("CREATE TABLE {}.{} ({})").format(
                    ident(schema), ident(TABLE), sql.SQL(", ").join(defs)
                )
            )
            con.execute(
                sql.SQL("CREATE TEMP TABLE staging ({})").format(
                    sql.SQL(", ").join(sql.SQL("{} text").format(ident(c)) for c in staging)
                )
            )
            copy = sql.SQL("COPY staging FROM STDIN WITH (FORMAT csv, HEADER true)")
            with con.cursor().copy(copy) as cp, csv_file.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    cp.write(chunk)
            con.execute(
                sql.SQL("INSERT INTO {}.{} SELECT {} FROM staging").format(
                    ident(schema), ident(TABLE), sql.SQL(", ").join(values)
                )
            )
            con.execute(sql.SQL("ANALYZE {}.{}").format(ident(schema), ident(TABLE)))
        return self.url(schema)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    external = os.environ.get("DIAGNOSE_TEST_PG_URL")
    if external:
        from psycopg.conninfo import conninfo_to_dict

        p = conninfo_to_dict(external)
        yield PgServer(
            str(p.get("host", "127.0.0.1")),
            int(p.get("port", 5432)),
            str(p.get("user", "postgres")),
            str(p.get("password", "")),
            str(p.get("dbname", "postgres")),
            own=False,
        )
        return
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip(
            "no PostgreSQL server binaries (apt-get install postgresql; .ci/run installs it)"
        )
    root = Path(tempfile.mkdtemp(prefix="diagnose-pg-"))
    password = "pw-" + secrets.token_hex(8)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres", "postgres")
    data, port = root / "data", _free_port()
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} -c fsync=off"
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(root / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=90,
    )
    try:
        yield PgServer("127.0.0.1", port, "postgres", password, "postgres", own=True)
    finally:
        subprocess.run(
            _as_postgres(
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
            ),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_urls(pg: PgServer, datasets: dict[str, Dataset]) -> dict[str, str]:
    """One schema per dataset on the server, each holding the dataset's table."""
    return {name: pg.load(f"delays_{name}", ds.file("csv")) for name, ds in datasets.items()}
