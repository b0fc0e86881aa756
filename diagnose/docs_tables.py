"""The Markdown tables of checks and rights in README.md and docs/design.md, generated from the checks.

Each table is a list of columns; each column is a header and a function of a
check (and the catalogue, which says which runbook steps a check proves). A new
declaration on `Check` becomes a new column in one line, e.g.
`Column("causes", lambda c, _: _codes(c.causes))`.

The files hold each table between markers `<!-- NAME:start -->` and
`<!-- NAME:end -->`. `python -m diagnose.docs_tables --write` rewrites them;
`--check` (the default) exits 1 and names the tables that drifted.
tests/test_docs_tables.py runs the check.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from diagnose.catalogue import Catalogue
from diagnose.checks.base import Check

REPOSITORY = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[Check, Catalogue], str]


def _code(text: str) -> str:
    return f"`{text}`"


def _proves(check: Check, catalogue: Catalogue) -> str:
    """The runbook steps whose front matter names this check, by runbook: `cosmosdb-auth-errors 3`."""
    parts = []
    for runbook in catalogue.runbooks.values():
        steps = [str(s.number) for s in runbook.steps if check.id in s.checks]
        if steps:
            parts.append(f"{runbook.id} {', '.join(steps)}")
    return "; ".join(parts) or "–"


def _topologies(check: Check, _catalogue: Catalogue) -> str:
    applies = ", ".join(check.topologies)
    return f"{applies} (only with `--trigger`)" if check.only_with_trigger else applies


def _rights(check: Check, _catalogue: Catalogue) -> str:
    return "; ".join(check.permissions) or "–"


def _prove_rights(check: Check, _catalogue: Catalogue) -> str:
    return "; ".join(check.prove_permissions) or "–"


def _deadline(check: Check, _catalogue: Catalogue) -> str:
    from diagnose.runner import DEFAULT_CHECK_DEADLINE_S

    return f"{check.deadline_s or DEFAULT_CHECK_DEADLINE_S:g} s"


def _needs_column(chain: Sequence[Check]) -> Column:
    """`needs`, with "all above" for a check that waits for every check before it."""
    position = {c.id: i for i, c in enumerate(chain)}

    def cell(check: Check, _catalogue: Catalogue) -> str:
        before = [c.id for c in chain[: position[check.id]]]
        if len(before) > 1 and list(check.needs) == before:
            return "all above"
        return ", ".join(_code(n) for n in check.needs) or "–"

    return Column("needs", cell)


ID = Column("check", lambda c, _: _code(c.id))
TITLE = Column("what it decides", lambda c, _: c.title)
PROVES = Column("proves (runbook step)", _proves)
TOPOLOGIES = Column("topologies", _topologies)
RIGHTS = Column("to read (what the check decides from)", _rights)
PROVE_RIGHTS = Column("to prove (the live operation, beyond reading)", _prove_rights)
DEADLINE = Column("deadline", _deadline)
CAUSES = Column("may find", lambda c, _: ", ".join(_code(x) for x in c.causes))


def columns(table: str, chain: Sequence[Check]) -> list[Column]:
    """The columns of each generated table, by marker name."""
    return {
        "readme-checks": [ID, TITLE, PROVES, TOPOLOGIES],
        "design-checks": [ID, TITLE, _needs_column(chain), PROVES, CAUSES, TOPOLOGIES, DEADLINE],
        "design-rights": [ID, RIGHTS, PROVE_RIGHTS],
    }[table]


# file (relative to the repository) -> the tables it holds
FILES: dict[str, tuple[str, ...]] = {
    "README.md": ("readme-checks",),
    "docs/design.md": ("design-checks", "design-rights"),
}


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def render(cols: Sequence[Column], chain: Sequence[Check], catalogue: Catalogue) -> str:
    """A Markdown table: one row per check, in chain order."""
    lines = [
        "| " + " | ".join(c.header for c in cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for check in chain:
        lines.append("| " + " | ".join(_escape(c.cell(check, catalogue)) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def table(name: str) -> str:
    """The generated table `name` for the shipped checks and catalogue."""
    from diagnose import catalogue
    from diagnose.checks import shipped

    chain = shipped()
    return render(columns(name, chain), chain, catalogue.default())


class MarkersMissing(Exception):
    """A file lacks the start/end markers of a table it should hold."""


def _block(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- {re.escape(name)}:start -->\n)(.*?)(<!-- {re.escape(name)}:end -->)", re.S
    )


def fill(text: str, name: str, body: str) -> str:
    """`text` with the block `name` replaced by `body`."""
    pattern = _block(name)
    if not pattern.search(text):
        raise MarkersMissing(f"no <!-- {name}:start --> ... <!-- {name}:end --> block")
    return pattern.sub(lambda m: m.group(1) + body + m.group(3), text, count=1)


def refreshed(path: Path, names: Sequence[str]) -> tuple[str, str]:
    """(the file as it is, the file with its tables regenerated)."""
    current = path.read_text(encoding="utf-8")
    updated = current
    for name in names:
        try:
            updated = fill(updated, name, table(name))
        except MarkersMissing as exc:
            raise MarkersMissing(f"{path}: {exc}") from None
    return current, updated


def drifted(root: Path = REPOSITORY) -> list[str]:
    """The files whose tables differ from the generated ones."""
    return [rel for rel, names in FILES.items() if len(set(refreshed(root / rel, names))) != 1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m diagnose.docs_tables",
        description="Regenerate (--write) or verify (--check, the default) the tables of checks "
        "and rights in README.md and docs/design.md.",
    )
    parser.add_argument("--write", action="store_true", help="rewrite the tables in place")
    parser.add_argument("--root", type=Path, default=REPOSITORY, help="the repository's root")
    args = parser.parse_args(argv)
    try:
        if args.write:
            for rel, names in FILES.items():
                current, updated = refreshed(args.root / rel, names)
                if updated != current:
                    (args.root / rel).write_text(updated, encoding="utf-8")
                    print(f"rewrote the tables of {rel}")
            return 0
        stale = drifted(args.root)
    except (OSError, MarkersMissing) as exc:
        print(f"docs_tables: {exc}", file=sys.stderr)
        return 2
    for rel in stale:
        print(f"{rel}: its tables differ from the checks' declarations", file=sys.stderr)
    if stale:
        print("regenerate them with: python -m diagnose.docs_tables --write", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
