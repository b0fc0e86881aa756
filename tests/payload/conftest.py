"""Fixtures for the payload tests: an isolated state dir and working directory for the `cli` fixture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.harness import Cli, CliResult

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
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> Path:
    """Each test gets its own ledger and a working directory with no diagnose.toml or profile."""
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))  # for the one test that runs in process
    cli.env.update(XDG_STATE_HOME=str(state), DIAGNOSE_LAB_PROPAGATION_S="0.05")
    for name in ("DIAGNOSE_ADOBE_CLIENT_ID", "DIAGNOSE_ADOBE_CLIENT_SECRET", "DIAGNOSE_IMS_ORG"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # the CLI's subprocess starts here too
    return state


def report(result: CliResult) -> dict[str, Any]:
    """The JSON report of a run made with --output json (stdout holds it and nothing else), validated."""
    return result.json()


def codes(document: dict[str, Any]) -> list[str]:
    return [f["code"] for f in document["findings"]]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret {secret[:8]}... leaked"
