"""The fixes a walkthrough may apply (each declared in the catalogue), and nothing else that writes.

A planner looks at what the checks established and returns a `FixPlan` saying
exactly what would change, on which object, with which request and permission;
`apply` performs that one request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from diagnose.catalogue import Fix
from diagnose.checks.base import Context
from diagnose.checks.principal import MANAGED_KINDS
from diagnose.errors import NotPermitted
from diagnose.model import Finding


@dataclass
class FixPlan:
    fix: Fix
    target: str  # the object, by name and id
    change: str  # what will change, in words
    method: str
    path: str
    body: dict[str, object] | None = None

    def request(self, graph_url: str) -> dict[str, Any]:
        """The request the fix sends: method, URL and body (a JSON value, or None)."""
        return {"method": self.method, "url": graph_url.rstrip("/") + self.path, "body": self.body}

    def describe(self, graph_url: str) -> str:
        body = f" {body_json(self.body)}" if self.body is not None else ""
        return (
            f"{self.fix.title}\n"
            f"  object:     {self.target}\n"
            f"  change:     {self.change}\n"
            f"  request:    {self.method} {self.request(graph_url)['url']}{body}\n"
            f"  permission: {self.fix.permission}"
        )


def body_json(body: object) -> str:
    """A request body as it goes on the wire: compact JSON, its keys in their order."""
    return json.dumps(body, ensure_ascii=False)


def _finding(ctx: Context, check_id: str, code: str) -> Finding | None:
    result = ctx.results.get(check_id)
    return next((f for f in result.findings if f.code == code), None) if result else None


def plan_reenable(ctx: Context, fix: Fix) -> FixPlan | None:
    found = _finding(ctx, "principal.enabled", "principal.disabled")
    if found is None or not found.evidence.get("object_id"):
        return None
    principal = ctx.results["principal.enabled"].evidence
    return FixPlan(
        fix,
        target=f"service principal {principal.get('display_name')} (app {principal.get('app_id')}, object {found.evidence['object_id']})",
        change="accountEnabled: false -> true",
        method="PATCH",
        path=f"/v1.0/servicePrincipals/{found.evidence['object_id']}",
        body={"accountEnabled": True},
    )


def plan_restore(ctx: Context, fix: Fix) -> FixPlan | None:
    found = _finding(ctx, "principal.enabled", "principal.deleted")
    if (
        found is None
        or not found.evidence.get("restorable")
        or not found.evidence.get("deleted_object_id")
        or found.evidence.get("identity_kind") in MANAGED_KINDS
    ):
        return None  # a managed identity is never restored: it is recreated (troubleshoot-cmk)
    return FixPlan(
        fix,
        target=f"deleted service principal {found.evidence.get('display_name')} (app {found.evidence.get('app_id')}, "
        f"object {found.evidence['deleted_object_id']}, deleted {found.evidence.get('deleted_at')})",
        change="restored from the directory's deleted items, with its role assignments",
        method="POST",
        path=f"/v1.0/directory/deletedItems/{found.evidence['deleted_object_id']}/restore",
    )


PLANNERS: dict[str, Callable[[Context, Fix], FixPlan | None]] = {
    "reenable-principal": plan_reenable,
    "restore-principal": plan_restore,
}


def plans(ctx: Context, fixes: tuple[Fix, ...]) -> list[FixPlan]:
    """The declared fixes that apply to what the checks found."""
    out = []
    for fix in fixes:
        planner = PLANNERS.get(fix.id)
        plan = planner(ctx, fix) if planner else None
        if plan:
            out.append(plan)
    return out


def apply(ctx: Context, plan: FixPlan) -> str:
    """Perform the one request; returns what the service answered. Raises NotPermitted when refused."""
    reply = ctx.graph.request(plan.method, plan.path, body=plan.body)
    if reply.status in (401, 403) and reply.error_code:  # Graph's own refusal, not a gateway's
        raise NotPermitted(
            f"Microsoft Graph refused the fix ({reply.error_code})", plan.fix.permission
        )
    if reply.status >= 300:
        said = reply.error_message or reply.error_code or "no error of its own (a gateway's page?)"
        raise RuntimeError(f"Microsoft Graph answered {reply.status}: {said}")
    return f"HTTP {reply.status}"
