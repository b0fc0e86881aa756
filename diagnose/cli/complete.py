"""Shell completion of the values diagnose knows: check ids and runbook ids (lab scenarios:
`cli/options.py`, the one module besides the lab command that may import the lab).

click completes commands and options by itself (docs/completion.md); these functions
complete the values of arguments and options, and stay light: the lab's scenario names
and the runbooks' ids are read without starting anything, never a network call.
"""

from __future__ import annotations

from click import Context, Parameter
from click.shell_completion import CompletionItem


def items(candidates: dict[str, str], incomplete: str, prefix: str = "") -> list[CompletionItem]:
    return [
        CompletionItem(prefix + name, help=help_text)
        for name, help_text in candidates.items()
        if name.startswith(incomplete)
    ]


def complete_check_ids(ctx: Context, param: Parameter, incomplete: str) -> list[CompletionItem]:
    """Check ids; after a comma, the next id of the list (`--only principal.enabled,roles.`)."""
    from diagnose.checks import all_checks

    head, _, last = incomplete.rpartition(",")
    prefix = f"{head}," if head else ""
    return items({c.id: c.title for c in all_checks()}, last, prefix)


def complete_runbook_ids(ctx: Context, param: Parameter, incomplete: str) -> list[CompletionItem]:
    from diagnose import catalogue

    try:
        books = catalogue.default().runbooks
    except catalogue.CatalogueError:
        return []
    return items({rid: book.title for rid, book in books.items()}, incomplete)
