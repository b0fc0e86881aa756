"""`diagnose explain --output json` through the harness, and what the triage tests read of it."""

from __future__ import annotations

from typing import Any

from tests.harness import run_cli


def explain_json(
    *paths: str, stdin: bytes | str | None = None, extra: tuple[str, ...] = ()
) -> tuple[int, dict[str, Any], str]:
    """Exit status, the validated diagnose/explain@1 document, stderr."""
    result = run_cli("explain", "--output", "json", *extra, *paths, stdin=stdin)
    return result.exit_code, result.json(), result.stderr


def codes(document: dict[str, Any]) -> set[str]:
    return {m["code"] for m in document["matches"]}


def diagnosis_codes(document: dict[str, Any]) -> list[str]:
    return [d["code"] for d in document["diagnosis"]]
