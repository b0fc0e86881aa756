"""Write diagnose/lab/services/graph_properties.json and graph_application.json from
msgraph-metadata's v1.0 CSDL.

The published properties of Microsoft Graph v1.0's `servicePrincipal` entity (and its navigation
properties) and of its `application` entity with the complex types its dated credentials use
(passwordCredential, keyCredential), name -> EDM type, each with its bases directoryObject and
entity. Usage:

    python scripts/gen_graph_types.py CSDL COMMIT

where CSDL is `schemas/v1.0-Prod.csdl` of https://github.com/microsoftgraph/msgraph-metadata at
COMMIT (e.g. `git show COMMIT:schemas/v1.0-Prod.csdl > v1.0-Prod.csdl`).
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
SERVICES = Path(__file__).resolve().parent.parent / "diagnose/lab/services"


def _properties(root: ET.Element, tag: str, name: str, kind: str = "Property") -> dict[str, str]:
    """A type's properties (or navigation properties), its base types' first (graph.x names
    resolve in the same schema)."""
    node = next(n for n in root.iter(f"{EDM}{tag}") if n.get("Name") == name)
    base = node.get("BaseType")
    inherited = _properties(root, tag, base.split(".")[-1], kind) if base else {}
    own = {p.get("Name", ""): p.get("Type", "") for p in node.findall(f"{EDM}{kind}")}
    return {**inherited, **own}


def _write(name: str, document: dict[str, object]) -> None:
    out = SERVICES / name
    out.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def main(csdl: str, commit: str) -> None:
    root = ET.parse(csdl).getroot()
    source = {
        "source": f"https://github.com/microsoftgraph/msgraph-metadata/blob/{commit}/schemas/v1.0-Prod.csdl",
        "commit": commit,
    }
    bases = "(with its bases directoryObject and entity), Microsoft Graph v1.0"
    _write(
        "graph_properties.json",
        {
            **source,
            "entity": f"microsoft.graph.servicePrincipal {bases}",
            "properties": _properties(root, "EntityType", "servicePrincipal"),
            "navigationProperties": sorted(
                _properties(root, "EntityType", "servicePrincipal", "NavigationProperty")
            ),
        },
    )
    _write(
        "graph_application.json",
        {
            **source,
            "entity": f"microsoft.graph.application {bases}",
            "properties": _properties(root, "EntityType", "application"),
            "types": {
                name: _properties(root, "ComplexType", name)
                for name in ("passwordCredential", "keyCredential")
            },
        },
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
