"""The JSON Schemas (draft 2020-12) of the documents diagnose prints, shipped with the package.

One file per document, named by the part between `diagnose/` and `@`: the
schema of `diagnose/report@1` is `report.json`, and its `"$id"` is
`"diagnose/report@1"`, the document's own `schema` value. docs/design.md
("Report schemas") says which command prints which document.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

_ID = re.compile(r"diagnose/([a-z][a-z0-9-]*)@(\d+)")


class UnknownSchema(LookupError):
    """No schema ships for this id."""


def _file_name(schema_id: str) -> str:
    match = _ID.fullmatch(schema_id)
    if match is None:
        raise UnknownSchema(f"{schema_id!r} is not a diagnose document id (diagnose/NAME@N)")
    name, version = match.groups()
    return f"{name}.json" if version == "1" else f"{name}@{version}.json"


def load(schema_id: str) -> dict[str, Any]:
    """The schema whose `$id` is `schema_id` (for example "diagnose/report@1")."""
    entry = resources.files(__name__) / _file_name(schema_id)
    if not entry.is_file():
        raise UnknownSchema(f"no schema ships for {schema_id!r}")
    schema: dict[str, Any] = json.loads(entry.read_text(encoding="utf-8"))
    return schema


def ids() -> list[str]:
    """The `$id` of every shipped schema, sorted."""
    found = []
    for entry in resources.files(__name__).iterdir():
        if entry.name.endswith(".json"):
            found.append(str(json.loads(entry.read_text(encoding="utf-8"))["$id"]))
    return sorted(found)
