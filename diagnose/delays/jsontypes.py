"""The column types of a JSON-lines export, declared instead of guessed from its first rows.

DuckDB's `read_json` infers each field's type from a sample (the first 20,480
rows by default). A field that is null or absent throughout the sample (a
failure reason, in an export where the first failure comes after ~38,000
delivered messages) is typed NULL or left out, and every later value is lost
without an error: the analysis would report no failure reason at all.
Scanning the whole file to infer (`sample_size = -1`) fixes it at three times
the load time (1M events, 546 MB: 4.3 s -> 15 s); declaring the analysis'
fields (`columns = {...}`) fixes it and loads faster (3.1 s), because nothing
else is parsed. The sample still decides where the fields live (flat dotted
columns or nested `_experience` objects) and which fields exist, so a file
without them is still refused by name.
"""

from __future__ import annotations

from typing import Any

from diagnose.delays.fields import FIELDS, Field

_TEXT = "VARCHAR"


def _sampled(relation: Any) -> tuple[dict[str, str], set[str]]:
    """(top-level column -> type name, dotted paths inside the sampled objects)."""
    top = {name: str(kind) for name, kind in zip(relation.columns, relation.types, strict=True)}
    inside: set[str] = set()

    def walk(prefix: str, kind: Any) -> None:
        inside.add(prefix)
        if kind.id == "struct":
            for name, child in kind.children:
                walk(f"{prefix}.{name}", child)

    for name, kind in zip(relation.columns, relation.types, strict=True):
        if kind.id == "struct":
            walk(name, kind)
    return top, inside


def _declared(field: Field, sampled: str | None) -> str:
    """Text for every field, except a timestamp the sample typed as one (or as a number, which
    the analysis refuses by name): those keep their type."""
    if (
        field.kind == "timestamp"
        and sampled
        and sampled.startswith(
            ("TIMESTAMP", "DATE", "BIGINT", "INTEGER", "DOUBLE", "FLOAT", "DECIMAL", "UBIGINT")
        )
    ):
        return sampled
    return _TEXT


def _struct(tree: dict[str, Any]) -> str:
    parts = [
        f'"{name}" {_struct(sub) if isinstance(sub, dict) else sub}' for name, sub in tree.items()
    ]
    return f"STRUCT({', '.join(parts)})"


def columns(relation: Any) -> dict[str, str]:
    """The `columns` of read_json for the fields the analysis reads, from a sampled relation.

    A field is declared where the sample has it (a flat dotted column, or a path inside an
    object); an optional field the sample lacks is declared in the layout the file uses.
    """
    top, inside = _sampled(relation)
    uses_objects = any(f.path in inside for f in FIELDS)
    flat = any("." in f.path and f.path in top for f in FIELDS)
    declared: dict[str, str] = {}
    tree: dict[str, Any] = {}
    for field in FIELDS:
        if field.path in top:
            declared[field.path] = _declared(field, top[field.path])
        elif field.path in inside or (not field.required and uses_objects):
            *parents, leaf = field.path.split(".")
            node = tree
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = _TEXT
        elif not field.required and flat:
            declared[field.path] = _TEXT
        # else: missing, and the analysis refuses the source naming it
    for root, sub in tree.items():
        declared[root] = _struct(sub)
    return declared


def literal(declared: dict[str, str]) -> str:
    """`columns` as a DuckDB struct literal (every name comes from FIELDS, never from the file)."""
    return (
        "{"
        + ", ".join(
            f"'{name.replace(chr(39), chr(39) * 2)}': '{kind.replace(chr(39), chr(39) * 2)}'"
            for name, kind in declared.items()
        )
        + "}"
    )
