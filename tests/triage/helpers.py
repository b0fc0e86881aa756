"""Run the real `diagnose` CLI in process (click's CliRunner) and read its JSON."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner, Result

from diagnose.cli import cli


def run(*args: str, stdin: bytes | str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def explain_json(
    *paths: str, stdin: bytes | str | None = None, extra: tuple[str, ...] = ()
) -> tuple[int, dict[str, Any], str]:
    result = run("explain", "--output", "json", *extra, *paths, stdin=stdin)
    return result.exit_code, json.loads(result.stdout), result.stderr


def codes(document: dict[str, Any]) -> set[str]:
    return {m["code"] for m in document["matches"]}


def diagnosis_codes(document: dict[str, Any]) -> list[str]:
    return [d["code"] for d in document["diagnosis"]]
