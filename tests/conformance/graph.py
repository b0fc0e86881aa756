"""Walk a Graph answer against the properties (and complex types) Microsoft Graph v1.0 publishes."""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

from tests.conformance.answers import arm_token
from tests.conformance.models import is_iso
from tests.lab.sdk import credential, token


def edm(value: Any, type_name: str) -> bool:
    """Whether a JSON value is of the Edm type (null is of any)."""
    if value is None:
        return True
    if m := re.fullmatch(r"Collection\((.+)\)", type_name):
        return isinstance(value, list) and all(edm(v, m.group(1)) for v in value)
    if type_name == "Edm.Boolean":
        return isinstance(value, bool)
    if type_name == "Edm.String":
        return isinstance(value, str)
    if type_name == "Edm.Guid":
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return isinstance(value, str)
    if type_name == "Edm.DateTimeOffset":
        return is_iso(value)
    if type_name == "Edm.Binary":  # base64 in JSON
        try:
            base64.b64decode(str(value), validate=True)
        except ValueError:
            return False
        return isinstance(value, str)
    return isinstance(value, dict)  # a graph.* complex type


def walk(
    body: dict[str, Any],
    where: str,
    what: str,
    published: dict[str, str],
    noun: str = "property",
    nested: dict[str, tuple[str, dict[str, str]]] | None = None,
    annotations: bool = True,
) -> list[str]:
    """What in `body` (`what`'s, at `where`) `published` (name -> Edm type) lacks or types otherwise;
    a collection named in `nested` (name -> its complex type and that type's fields) item by item.
    `annotations`: pass over OData annotations (`@odata.*`), as on an entity (not in an item)."""
    out = []
    for key, value in body.items():
        if annotations and key.startswith("@odata."):
            continue
        if key not in published:
            out.append(f"{where}.{key}: {what} has no such {noun}")
        elif nested and key in nested:
            item_type, fields = nested[key]
            for i, item in enumerate(value or []):
                out += walk(
                    item, f"{where}.{key}[{i}]", item_type, fields, "field", annotations=False
                )
        elif not edm(value, published[key]):
            out.append(f"{where}.{key}: {value!r} is not a {published[key]}")
    return out


def graph(lab) -> tuple[str, str]:
    """The lab's Graph and a token for it, as the diagnosing identity."""
    arm_token(lab)  # renews the diagnoser's secret where the scenario expired it
    return lab.urls["graph"], token(credential(lab), lab.urls["graph"])
