"""Fixtures for the payload tests: an isolated state dir, no ambient profile, the CLI runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from diagnose.cli import cli

CORPUS = Path(__file__).parent / "corpus"

# The secrets planted in the corpus: none may appear in any output.
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb3JwdXMifQ.c2VjcmV0LXNpZ25hdHVyZQ"
API_KEY = "corpusapikey0123456789abcdef"
SECRETS = (
    TOKEN,
    API_KEY,
    "c2VjcmV0LXNpZ25hdHVyZQ",  # the token's signature alone
    "hunter2-corpus-password",
    "querysecret0123456789",
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own ledger and a working directory with no diagnose.toml or profile."""
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    monkeypatch.setenv("DIAGNOSE_LAB_PROPAGATION_S", "0.05")
    for name in ("DIAGNOSE_ADOBE_CLIENT_ID", "DIAGNOSE_ADOBE_CLIENT_SECRET", "DIAGNOSE_IMS_ORG"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return state


Invoke = Callable[..., Result]


@pytest.fixture
def invoke() -> Invoke:
    """Run `diagnose ARGS...` in process (click's runner; stdout and stderr apart)."""

    def run(*args: str, input: str | bytes | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return run


def report(result: Result) -> dict[str, Any]:
    """The JSON report of a run made with --output json (stdout holds it and nothing else)."""
    return json.loads(result.stdout)


def codes(document: dict[str, Any]) -> list[str]:
    return [f["code"] for f in document["findings"]]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret {secret[:8]}... leaked"
