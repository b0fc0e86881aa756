"""The embedded backend: DuckDB in process over local exports (Parquet, JSON lines, CSV).

SOURCE is one file, a folder (every export file inside it, recursively) or a
glob. The files become a view named like the dataset, so the analysis reads the
same table name everywhere (Parquet: a view; CSV and JSON: parsed once into a
table of a scratch database on disk). DuckDB streams and spills to disk past its
memory limit: nothing is loaded into Python objects but the aggregates.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from diagnose.delays.analysis import check_table, probe_sql
from diagnose.delays.fields import TABLE
from diagnose.errors import InputError
from diagnose.interrupts import requested

_FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".csv": "csv",
}
_READERS = {
    "parquet": "read_parquet({files}, union_by_name = true)",
    "json": "read_json({files}, format = 'newline_delimited', union_by_name = true)",
    "csv": "read_csv({files}, header = true, union_by_name = true)",
}
MEMORY_LIMIT = os.environ.get("DIAGNOSE_DUCKDB_MEMORY_LIMIT", "1GB")


def _format(path: str) -> str | None:
    name = path.lower().removesuffix(".gz").removesuffix(".zst")
    return _FORMATS.get(Path(name).suffix)


def find_files(source: str) -> tuple[str, list[str]]:
    """The export files SOURCE names and their one format; InputError when there are none."""
    from diagnose.delays.server import safe_source

    path, label = Path(source), safe_source(source)
    if path.is_dir():
        files = sorted(str(p) for p in path.rglob("*") if p.is_file() and _format(str(p)))
        if not files:
            raise InputError(
                f"{label}: folder holds no .parquet, .json/.jsonl/.ndjson or .csv files"
            )
    elif path.is_file():
        if not _format(source):
            raise InputError(
                f"{label}: unknown file type (expected .parquet, .json/.jsonl/.ndjson or .csv)"
            )
        files = [source]
    else:
        files = sorted(p for p in glob.glob(source, recursive=True) if _format(p))
        if not files:
            raise InputError(f"{label}: no such file or folder, and no export file matches it")
    formats = {fmt for f in files if (fmt := _format(f))}
    if len(formats) > 1:
        raise InputError(
            f"{label}: mixes formats ({', '.join(sorted(formats))}); name one format with a glob"
        )
    return formats.pop(), files


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """A query stopped by Ctrl-C is an interrupt, not a failure of the source.

    DuckDB checks for Ctrl-C while it runs, stops the query and raises its own error
    ("Query interrupted"), swallowing the KeyboardInterrupt: it is raised again here.
    """
    try:
        yield
    except Exception:
        if requested():
            raise KeyboardInterrupt from None
        raise


def _kind(type_name: str) -> str:
    upper = type_name.upper()
    if upper.startswith("TIMESTAMP"):
        return "timestamp"
    if upper in ("VARCHAR", "UUID", "JSON"):
        return "text"
    if upper in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE") or (
        upper.startswith(("DECIMAL", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"))
    ):
        return "number"
    return "other"


class LocalBackend:
    """DuckDB over the files of SOURCE, exposed as the dataset's table name.

    `table` (`--table`) names a table on a server; locally the files become a view or
    table of our own fixed name, so no part of the SQL comes from the command line.
    """

    dialect = "duckdb"
    prefer = "flat"

    def __init__(self, source: str, table: str) -> None:
        import duckdb

        check_table(table)  # the same rule everywhere, although the name is not used here
        from diagnose.delays.server import safe_source

        self.source = safe_source(source)  # for messages: never a password
        self.table = TABLE
        fmt, files = find_files(source)
        self.files = files
        self._tmp = tempfile.TemporaryDirectory(prefix="diagnose-delays-")
        self.con = duckdb.connect(
            str(Path(self._tmp.name) / "feedback.duckdb"),
            config={
                "memory_limit": MEMORY_LIMIT,
                "temp_directory": self._tmp.name,
                "preserve_insertion_order": False,
            },
        )
        self.con.execute("SET TimeZone = 'UTC'")
        listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
        reader = _READERS[fmt].format(files=listed)
        # Parquet is columnar already: a view. Text formats are parsed once into a table
        # of the on-disk scratch database, instead of at every query of the analysis.
        kind = "VIEW" if fmt == "parquet" else "TABLE"
        try:
            with _interruptible():
                if fmt == "json":
                    reader = self._declared_json(reader)
                self.con.execute(f"CREATE {kind} {TABLE} AS SELECT * FROM {reader}")
        except duckdb.Error as exc:
            raise InputError(f"{self.source}: cannot read as {fmt}: {_first_line(exc)}") from None

    def _declared_json(self, reader: str) -> str:
        """The JSON reader with the analysis' fields typed (jsontypes), not guessed from a sample."""
        from diagnose.delays import jsontypes

        declared = jsontypes.columns(self.con.sql(f"SELECT * FROM {reader}"))
        if not declared:  # none of the fields: the analysis names what is missing
            return reader
        return reader.removesuffix(")") + f", columns = {jsontypes.literal(declared)})"

    def describe(self) -> str:
        return f"{self.source} ({len(self.files)} file{'s' if len(self.files) != 1 else ''})"

    def probe(self, path: str, layout: str) -> str | None:
        import duckdb

        sql = probe_sql(path, layout, self.table, self.dialect)
        try:  # DESCRIBE binds the query without scanning the files
            with _interruptible():
                described = self.con.execute(f"DESCRIBE {sql}").fetchall()
        except (duckdb.BinderException, duckdb.CatalogException):
            return None
        except duckdb.Error as exc:
            raise InputError(f"{self.source}: cannot read: {_first_line(exc)}") from None
        return _kind(str(described[0][1]))

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        import duckdb

        try:
            with _interruptible():
                cursor = self.con.execute(sql)
                names = [d[0] for d in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
            raise InputError(f"{self.source}: wrong value type: {_conversion(exc)}") from None
        except duckdb.Error as exc:
            raise InputError(f"{self.source}: cannot analyse: {_first_line(exc)}") from None

    def close(self) -> None:
        self.con.close()
        self._tmp.cleanup()


def _conversion(exc: BaseException) -> str:
    """DuckDB's conversion error, cut to the lines that name the column and the value."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    keep = lines[:1] + [
        line for line in lines[1:] if line.startswith(("Error when converting", "Original Line"))
    ]
    return " ".join(keep) if keep else type(exc).__name__


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
