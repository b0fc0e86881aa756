"""Write diagnose/lab/services/graph_application.json from msgraph-metadata's v1.0 CSDL.

The published properties of Microsoft Graph v1.0's `application` entity (with its bases
directoryObject and entity) and of the complex types its dated credentials use
(passwordCredential, keyCredential), name -> EDM type. Usage:

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
OUT = Path(__file__).resolve().parent.parent / "diagnose/lab/services/graph_application.json"


def _properties(root: ET.Element, tag: str, name: str) -> dict[str, str]:
    """A type's properties, its base types' first (graph.x names resolve in the same schema)."""
    node = next(n for n in root.iter(f"{EDM}{tag}") if n.get("Name") == name)
    base = node.get("BaseType")
    inherited = _properties(root, tag, base.split(".")[-1]) if base else {}
    own = {p.get("Name", ""): p.get("Type", "") for p in node.findall(f"{EDM}Property")}
    return {**inherited, **own}


def main(csdl: str, commit: str) -> None:
    root = ET.parse(csdl).getroot()
    document = {
        "source": f"https://github.com/microsoftgraph/msgraph-metadata/blob/{commit}/schemas/v1.0-Prod.csdl",
        "commit": commit,
        "entity": "microsoft.graph.application (with its bases directoryObject and entity), Microsoft Graph v1.0",
        "properties": _properties(root, "EntityType", "application"),
        "types": {
            name: _properties(root, "ComplexType", name)
            for name in ("passwordCredential", "keyCredential")
        },
    }
    OUT.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
