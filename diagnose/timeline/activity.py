"""The Azure Activity Log: ARM writes on the vault, the key, the account and role assignments on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from diagnose.azure.rest import RestClient
from diagnose.model import Limitation
from diagnose.timeline.model import CHANGE, Event, SourceReport, Targets
from diagnose.timeline.window import iso, parse_time

NAME = "activity-log"
API_VERSION = "2015-04-01"
REACH_DAYS = 90
RIGHT = "Reader (Microsoft.Insights/eventtypes/values/read) on the resource group"
_ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments/"


def report() -> SourceReport:
    return SourceReport(
        NAME, "Azure Activity Log", reach=f"{REACH_DAYS} days", lag="no published per-event figure"
    )


def _group(resource_id: str) -> str | None:
    parts = resource_id.split("/")
    return parts[4] if len(parts) > 4 and parts[3].lower() == "resourcegroups" else None


def _concerns(resource_id: str, targets: list[str]) -> str | None:
    """The target an event's resource is, is under, or (a role assignment) is granted above."""
    rid = resource_id.rstrip("/").lower()
    scope = rid.split(_ASSIGNMENTS)[0] if _ASSIGNMENTS in rid else None
    for target in targets:
        t = target.lower()
        if (
            rid == t
            or rid.startswith(t + "/")
            or (scope is not None and (t == scope or t.startswith(scope + "/")))
        ):
            return target
    return None


def _actor(event: dict[str, Any]) -> str:
    caller = str(event.get("caller") or "unknown")
    appid = (event.get("claims") or {}).get("appid")
    return f"{caller} (app {appid})" if appid and "@" not in caller else caller


def collect(
    arm: RestClient, targets: Targets, since: datetime, until: datetime, out: SourceReport
) -> list[Event]:
    ids = targets.arm_ids()
    groups = sorted({g for g in map(_group, ids) if g})
    sub = targets.subscription_id or (ids[0].split("/")[2] if ids else None)
    events: list[Event] = []
    for group in groups:
        flt = (
            f"eventTimestamp ge '{iso(since)}' and eventTimestamp le '{iso(until)}' "
            f"and resourceGroupName eq '{group}'"
        )
        path = f"/subscriptions/{sub}/providers/microsoft.insights/eventtypes/management/values"
        reply = arm.get_all(path, {"api-version": API_VERSION, "$filter": flt})
        if reply.status != 200 or not isinstance(reply.body, dict):
            problem = reply.problem(
                f"the Activity Log of resource group {group}",
                RIGHT.replace("the resource group", f"resource group {group}"),
            )
            # one limitation for the source: every group that could not be read, not the last one
            earlier = out.limitation
            out.limitation = Limitation(
                f"{earlier.reason}; {problem.reason}" if earlier else problem.reason,
                (earlier.permission if earlier else None) or problem.permission,
            )
            continue
        for item in reply.body.get("value") or []:
            if (item.get("eventName") or {}).get("value") != "EndRequest":
                continue
            target = _concerns(str(item.get("resourceId") or ""), ids)
            when = parse_time(item.get("eventTimestamp"))
            if target is None or when is None:
                continue
            status = (item.get("status") or {}).get("value", "")
            operation = (item.get("operationName") or {}).get("value", "")
            resource = str(item.get("resourceId"))
            detail = f"{status}" + (f" on {resource}" if resource.lower() != target.lower() else "")
            events.append(Event(when, NAME, _actor(item), str(operation), target, CHANGE, detail))
    return events
