"""`diagnose checks`: the checks a run knows, as they declare themselves."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from diagnose.catalogue import Catalogue
    from diagnose.checks.base import Check


def _needs(check: Check, above: list[str]) -> list[str]:
    """What the check waits for; "all above" when it runs after every check listed before it."""
    after = list(check.after)
    if after and after == above:
        after = ["all above"]
    return [*check.needs, *after]


def rows(checks: list[Check], cat: Catalogue) -> list[dict[str, Any]]:
    """One row per check: its declaration, and the runbook steps that name it as their proof."""
    listed: list[dict[str, Any]] = []
    for position, check in enumerate(checks):
        proves = [
            {"runbook": rb.id, "step": step.number}
            for rb in cat.runbooks.values()
            for step in rb.steps
            if check.id in step.checks
        ]
        listed.append(
            {
                "id": check.id,
                "title": check.title,
                "needs": _needs(check, [c.id for c in checks[:position]]),
                "proves": proves,
                "topologies": list(check.topologies),
                "only_with_trigger": check.only_with_trigger,
                "rights": {
                    "read": list(check.permissions),
                    "prove": list(check.prove_permissions),
                },
                "permissions": list(check.all_permissions),  # read + prove (diagnose/checks@1)
                "causes": list(check.causes),
                "provides": [fact.name for fact in check.provides],
            }
        )
    return listed


EXAMPLES = """\b
Examples:
  diagnose checks                 every check, what it needs and the rights it takes
  diagnose checks -o json         the same for scripts (diagnose/checks@1)
"""


def rights(listed: list[dict[str, Any]], kind: str) -> list[str]:
    """The rights of the whole chain of one kind (`read` or `prove`), each once, sorted."""
    return sorted({p for r in listed for p in r["rights"][kind] if not p.startswith("none")})


@click.command(epilog=EXAMPLES)
@click.option(
    "-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def checks(output: str) -> None:
    """List the checks: id, what they need, the runbook steps they prove, the rights they need."""
    from diagnose import catalogue
    from diagnose.checks import all_checks

    listed = rows(all_checks(), catalogue.default())
    read, prove = rights(listed, "read"), rights(listed, "prove")
    if output == "json":
        document = {
            "schema": "diagnose/checks@1",
            "checks": listed,
            "least_privilege": read,
            "rights": {"read": read, "prove": prove},
        }
        click.echo(json.dumps(document, indent=2))
        return
    for r in listed:
        proves = ", ".join(f"{p['runbook']} {p['step']}" for p in r["proves"]) or "-"
        needs = ", ".join(r["needs"]) or "-"
        click.echo(f"{r['id']:<18} {r['title']}")
        click.echo(
            f"{'':<18} needs: {needs}; proves: {proves}; topologies: {', '.join(r['topologies'])}"
        )
        click.echo(f"{'':<18} may find: {', '.join(r['causes']) or '-'}")
        click.echo(f"{'':<18} rights to read: {'; '.join(r['rights']['read']) or '-'}")
        if r["rights"]["prove"]:
            click.echo(f"{'':<18} rights to prove: {'; '.join(r['rights']['prove'])}")
    click.echo("\nRights to read (least privilege, read-only):")
    for p in read:
        click.echo(f"  - {p}")
    click.echo(
        "Rights that prove (the live unwrap round trip; the --trigger call). Without them a run "
        "still decides everything else and says what it did not prove:"
    )
    for p in prove:
        click.echo(f"  - {p}")
    click.echo("Fixes (runbook walk --fix) need more; each says which when asked.")
