"""The real-world corpus (tests/triage/realworld/) read by the real `diagnose explain`.

Each corpus file holds an error text copied from a public source and the causes it
should give (`# expect:`, first one first; `none` for a look-alike). The text alone
(the part after the headers, which are our annotations, not evidence) is written to
a file and explained with `diagnose explain FILE --output json`:

- every expected cause is reported, and the first one is the diagnosis' first entry;
- a **look-alike** (`expect: none`, or causes that are all outside the CMK chain)
  gets no fail or warn cause of the CMK chain;
- no traceback, and no secret or token-like value of the input in the output.

**The CMK chain** is what Cosmos DB walks to reach its key and what its revoked state
means: the causes of runbook `cosmosdb-auth-errors` at steps 1 to 3 (the identity that
reaches the key, its rights on the key, the vault, the key, the account's CMK settings
and `customerManagedKeyStatus`), except the causes about *another* caller than that
identity: `cosmos.dataplane-role-missing` (the production application's data-plane
role) and `keyvault.firewall-blocks-caller` (a caller the vault's firewall refuses
because it is not a trusted service; Cosmos DB is one). Step 4 (the data plane's own
authentication, the campaign call) and the other runbooks (a caller's own Entra
credential, the gateway, payloads, api-versions) are not the chain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from diagnose.catalogue import load
from diagnose.model import Severity
from tests.harness import run_cli

CORPUS = Path(__file__).parent / "realworld"
CATALOGUE = load()
NOT_THE_CHAIN = {"cosmos.dataplane-role-missing", "keyvault.firewall-blocks-caller"}
CMK_CHAIN = frozenset(
    c.code
    for c in CATALOGUE.causes.values()
    if c.runbook == "cosmosdb-auth-errors"
    and c.step in (1, 2, 3)
    and c.severity is not Severity.INFO
    and c.code not in NOT_THE_CHAIN
)

# Values that look like credentials: JWTs, `name=value` secrets, long random-looking runs.
TOKEN_LIKE = re.compile(
    r"eyJ[\w-]{8,}\.[\w-]{8,}(?:\.[\w-]*)?"
    r"|(?i:secret|password|sig|token|apikey|api_key|accountkey)[\"']?\s*[=:]\s*[\"']?([^\s\"'&;,]{12,})"
    r"|(?<![\w+/=])(?=[A-Za-z0-9+/=_]*\d)(?=[A-Za-z0-9+/=_]*[a-z])(?=[A-Za-z0-9+/=_]*[A-Z])[A-Za-z0-9+/=_]{32,}"
)


@dataclass(frozen=True)
class Entry:
    name: str
    source: str
    expect: tuple[str, ...]
    text: str

    @property
    def lookalike(self) -> bool:
        return not any(code in CMK_CHAIN for code in self.expect)


def _header(head: str, name: str, path: Path) -> str:
    for line in head.splitlines():
        if line.startswith(f"# {name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{path.name}: no '# {name}:' header")


def _entry(path: Path) -> Entry:
    head, blank, text = path.read_text(encoding="utf-8").partition("\n\n")
    assert blank and text.strip(), f"{path.name}: headers, a blank line, then the text"
    expect = _header(head, "expect", path)
    codes = () if expect == "none" else tuple(c.strip() for c in expect.split(","))
    return Entry(path.name, _header(head, "source", path), codes, text)


ENTRIES = [_entry(p) for p in sorted(CORPUS.glob("*.txt"))]


def test_the_corpus_is_large_enough_and_names_real_causes() -> None:
    lookalikes = [e for e in ENTRIES if e.lookalike]
    assert len(ENTRIES) >= 40 and len(lookalikes) >= 12
    assert len(ENTRIES) - len(lookalikes) >= 25, "most texts should be the incident itself"
    for entry in ENTRIES:
        assert entry.source.startswith("https://"), f"{entry.name}: source is not a URL"
        unknown = [c for c in entry.expect if c not in CATALOGUE.causes]
        assert not unknown, f"{entry.name}: expects causes the catalogue lacks: {unknown}"


def _explain(tmp_path: Path, name: str, text: str) -> tuple[int, dict, str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run_cli("explain", "--output", "json", path)
    assert "Traceback" not in result.output, result.output
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, result.json("diagnose/explain@1"), result.output


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_explain_reads_the_real_text_right(entry: Entry, tmp_path: Path) -> None:
    status, doc, output = _explain(tmp_path, entry.name, entry.text)
    reported = [d["code"] for d in doc["diagnosis"]]
    matched = {m["code"] for m in doc["matches"]}
    if entry.expect:
        assert reported and reported[0] == entry.expect[0], (
            f"{entry.name}: expected {entry.expect[0]} first, got {reported}"
        )
        missing = [c for c in entry.expect if c not in reported]
        assert not missing, f"{entry.name}: not reported {missing} (got {reported})"
    if entry.lookalike:
        chain = [
            d["code"]
            for d in doc["diagnosis"]
            if d["code"] in CMK_CHAIN and d["severity"] in ("fail", "warn")
        ]
        assert not chain, f"{entry.name} is a look-alike, yet explain reported {chain}"
    if not entry.expect:
        assert not reported and status == 0, f"{entry.name}: {reported} {matched}"
    leaked = [t for t in _token_like(entry.text) if t in output]
    assert not leaked, f"{entry.name}: token-like values echoed: {leaked}"


def _token_like(text: str) -> set[str]:
    return {m.group(1) or m.group(0) for m in TOKEN_LIKE.finditer(text)}


PLANTED_SECRET = "Q8f~Zx3.vLk_9Rt2mWq7YbN4cH6dJ0sPaE"
PLANTED_JWT = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL3ZhdWx0In0.c2lnbmF0dXJlMTIzNDU2"
)


def test_secrets_planted_next_to_the_evidence_are_never_echoed(tmp_path: Path) -> None:
    """Every text that gives a cause, with a client secret and a bearer token on its last line."""
    planted = f" client_secret={PLANTED_SECRET} Authorization: Bearer {PLANTED_JWT}"
    paths: dict[str, Entry] = {}
    for entry in (e for e in ENTRIES if e.expect):
        lines = entry.text.rstrip("\n").split("\n")
        lines[-1] += planted
        path = tmp_path / entry.name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths[str(path)] = entry
    result = run_cli("explain", "--output", "json", *paths)
    assert "Traceback" not in result.output
    assert PLANTED_SECRET not in result.output and PLANTED_JWT not in result.output
    assert PLANTED_JWT.split(".")[1] not in result.output
    doc = result.json("diagnose/explain@1")
    for path, entry in paths.items():
        found = {m["code"] for m in doc["matches"] if m["source"] == path}
        assert entry.expect[0] in found, f"{entry.name}: planting a secret changed the verdict"
    near = [m for m in doc["matches"] if "client_secret=***" in m["excerpt"]]
    assert near, "no excerpt reached the planted secret: this test would prove nothing"


def test_the_token_pattern_finds_what_it_should() -> None:
    found = _token_like(f"x client_secret={PLANTED_SECRET} y Bearer {PLANTED_JWT} z")
    assert PLANTED_SECRET in found and PLANTED_JWT in found
    assert not _token_like("ActivityId: 7edc9991-deb6-4e2a-9d93-6ebd297a8d9e, Microsoft.Azure")
