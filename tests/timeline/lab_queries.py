"""Run a query `diagnose timeline --kql` printed against the lab's own endpoints (real SDK clients)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from diagnose import profile as profiles
from diagnose.azure import credential, rest


def run_query(running: Any, service: str, scope: str, text: str) -> list[dict[str, Any]]:
    profile = profiles.load(dict(running.env), cwd=Path("/nonexistent"))
    cred = credential.build(profile)
    if service == "Resource Graph":
        reply = rest.arm(profile, cred).request(
            "POST",
            "/providers/Microsoft.ResourceGraph/resources",
            {"api-version": "2024-04-01"},
            {"subscriptions": [profile.subscription_id], "query": text},
        )
        assert reply.status == 200, reply.body
        return list(reply.body["data"])
    from azure.monitor.query import LogsQueryClient

    client = LogsQueryClient(
        cred, endpoint=profile.loganalytics_url, connection_verify=profile.ca_bundle
    )
    kind, _, target = scope.partition(" ")
    call = client.query_workspace if kind == "workspace" else client.query_resource
    result = call(target, text, timespan=None)
    table = result.tables[0]
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]


def folded_times(doc: dict[str, Any]) -> set[str]:
    """Each folded failure run covers the times between its first and last (seconds, UTC)."""
    out: set[str] = set()
    for e in doc["events"]:
        if e["count"] > 1 and e["last"]:
            at = datetime.fromisoformat(e["time"])
            end = datetime.fromisoformat(e["last"])
            while at <= end:
                out.add(at.strftime("%Y-%m-%dT%H:%M:%SZ"))
                at += timedelta(seconds=1)
    return out
