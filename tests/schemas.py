"""Validate any JSON document diagnose prints against its shipped JSON Schema.

`validate_document(stdout)` parses the text (or takes the parsed object), picks
the schema by the document's `schema` key (`diagnose/report@1` ->
`diagnose/schemas/report.json`) and fails the test with every violation, each
with its JSON path. Any test that reads a JSON document can call it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]

from diagnose import schemas


def validator(schema_id: str) -> Draft202012Validator:
    return Draft202012Validator(schemas.load(schema_id), format_checker=FormatChecker())


def violations(document: Mapping[str, Any], schema_id: str) -> list[str]:
    """Every violation of the schema, as `path: message`, in document order."""
    errors = sorted(validator(schema_id).iter_errors(document), key=lambda e: list(e.path))
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors]


def validate_document(
    document: str | bytes | Mapping[str, Any], schema_id: str | None = None
) -> dict[str, Any]:
    """The document, parsed, once it validates; `schema_id` only for a document without one."""
    parsed = json.loads(document) if isinstance(document, str | bytes) else dict(document)
    assert isinstance(parsed, dict), f"a JSON object expected, got {type(parsed).__name__}"
    chosen = schema_id or parsed.get("schema")
    assert isinstance(chosen, str), "the document has no `schema` key: pass schema_id"
    problems = violations(parsed, chosen)
    assert not problems, f"not a valid {chosen} document:\n" + "\n".join(problems[:20])
    return parsed
