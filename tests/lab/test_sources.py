"""docs/lab.md "Sources": every behaviour the lab models names a public source or says *lab's choice*.

The table is parsed as Markdown rows between its markers; a row passes when its source cell has
a URL, a file reference (a path in backticks, such as a specification file or a file of this
repository), or the words "lab's choice". The checks' parsers cite the same sources: each URL in
their comments is one of the table's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAB_MD = ROOT / "docs" / "lab.md"
START, END = "<!-- sources:start -->", "<!-- sources:end -->"
CELL = re.compile(r"(?<!\\)\|")  # a cell boundary: a pipe not escaped
URL = re.compile(r"https://[^\s)`'\"<>,;]+")
FILE_REFERENCE = re.compile(r"`([\w.-]+/[\w./*-]+\.(?:json|md|py|cs|csdl|tsp|txt))`")
CITED_HOSTS = ("https://learn.microsoft.com/", "https://github.com/")
# the modules that read the services' answers and decide on them
PARSERS = (
    "diagnose/checks/cosmos.py",
    "diagnose/checks/keyvault.py",
    "diagnose/azure/keyvault.py",
    "diagnose/azure/cosmos.py",
)


def rows(text: str) -> list[list[str]]:
    """The table's rows (header and separator dropped) as lists of cells."""
    assert text.count(START) == 1 and text.count(END) == 1, "the sources table's markers"
    block = text.split(START, 1)[1].split(END, 1)[0]
    lines = [line.strip() for line in block.strip().splitlines()]
    assert all(line.startswith("|") and line.endswith("|") for line in lines), "only table rows"
    cells = [[c.strip() for c in CELL.split(line[1:-1])] for line in lines]
    assert cells[0] == ["service", "behaviour", "source"], cells[0]
    assert all(set(c) <= {"-"} for c in cells[1]), "the header's separator"
    return cells[2:]


def unsourced(row: list[str]) -> str | None:
    """Why a row fails the rule, or None."""
    if len(row) != 3 or not all(row):
        return "a row has a service, a behaviour and a source"
    source = row[2]
    if URL.search(source) or FILE_REFERENCE.search(source) or "lab's choice" in source:
        return None
    return "no URL, no file reference, and not *lab's choice*"


def test_every_row_has_a_source_or_says_lab_s_choice() -> None:
    table = rows(LAB_MD.read_text())
    assert len(table) >= 40, "the table covers the services the verdicts read"
    problems = [(row[:2], why) for row in table if (why := unsourced(row))]
    assert not problems, problems
    assert {row[0] for row in table} >= {"Entra ID", "Graph", "ARM", "Key Vault", "Cosmos DB"}
    behaviours = [row[1] for row in table]
    assert len(behaviours) == len(set(behaviours)), "each behaviour once"


@pytest.mark.parametrize(
    "row",
    [
        ["ARM", "a behaviour", "a blog said so"],
        ["ARM", "a behaviour", ""],
        ["ARM", "a behaviour"],
        ["ARM", "a behaviour", "see `diagnose/lab`"],
    ],
)
def test_a_row_without_a_source_fails(row: list[str]) -> None:
    assert unsourced(row) is not None


def test_a_row_with_a_url_a_file_or_lab_s_choice_passes() -> None:
    for source in (
        "https://learn.microsoft.com/azure/cosmos-db/troubleshoot-cmk",
        "`specification/common-types/resource-management/v5/types.json`",
        "*lab's choice*",
    ):
        assert unsourced(["ARM", "b", source]) is None, source


def test_files_of_this_repository_named_in_the_table_exist() -> None:
    named = {
        m.group(1) for row in rows(LAB_MD.read_text()) for m in FILE_REFERENCE.finditer(row[2])
    }
    ours = [
        n for n in named if n.split("/")[0] in ("diagnose", "scripts", "tests", "docs", "runbooks")
    ]
    assert ours, named
    assert [n for n in ours if not (ROOT / n).exists()] == []


def test_the_parsers_cite_the_tables_sources() -> None:
    table_urls = {u.rstrip(".") for row in rows(LAB_MD.read_text()) for u in URL.findall(row[2])}
    cited = {  # citations: documentation pages and public repositories (not the URLs code builds)
        (module, u.rstrip("."))
        for module in PARSERS
        for u in URL.findall((ROOT / module).read_text())
        if u.startswith(CITED_HOSTS)
    }
    assert cited, "the parsers cite their sources"
    assert sorted(c for c in cited if c[1] not in table_urls) == []
