"""The lab's record-reading answers (issue 15), in every scenario, walked against the official models:
the Activity Log against azure-mgmt-monitor's `EventDataCollection` (api-version 2015-04-01),
Resource Graph against azure-mgmt-resourcegraph's `QueryResponse` (and its rows of
`resourcechanges` against the documented change payload), Log Analytics against
azure-monitor-query's generated `QueryResults` / `ErrorResponse`, and Graph's
`auditLogs/directoryAudits` against msgraph-metadata's v1.0 CSDL (tests/conformance/
graph_audit_types.json, source and commit in the file)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.monitor import models as monitor
from azure.mgmt.resourcegraph import models as resourcegraph
from azure.monitor.query.models import _models as logs  # the generated wire models

from diagnose.lab import Lab
from diagnose.lab.fleet import is_fleet
from diagnose.lab.history import HISTORY, LEGACY
from diagnose.lab.scenarios import SCENARIOS
from tests.conformance.answers import arm_token
from tests.conformance.models import check_msrest, check_typespec, is_iso
from tests.lab.sdk import caller_credential, credential, get, send, token

# A fleet lab keeps no history (its worlds carry no story): the single-world scenarios.
WORLDS = sorted(s for s in SCENARIOS if not is_fleet(s))
AUDIT_TYPES = json.loads(Path(__file__).with_name("graph_audit_types.json").read_text())
# The `resourcechanges` payload as Microsoft documents it (docs/research/audit-and-inventory-shapes.md
# §3: get-resource-changes.md, and the deprecated per-change fields of changes-resource-spec.md).
CHANGE_PROPERTIES = {
    "targetResourceId",
    "targetResourceType",
    "changeType",
    "changeAttributes",
    "changes",
}
CHANGE_ATTRIBUTES = {
    "previousResourceSnapshotId",
    "newResourceSnapshotId",
    "correlationId",
    "changedByType",
    "changesCount",
    "clientType",
    "changedBy",
    "operation",
    "timestamp",
}
PROPERTY_CHANGE = {
    "newValue",
    "previousValue",
    "isTruncated",
    "changeCategory",
    "propertyChangeType",
}
CHANGE_TYPES = {"Create", "Update", "Delete"}
# history.py's changes: those written through ARM (the Activity Log records them; a key's
# attributes are changed on Key Vault's data plane), those only Entra ID records.
ARM_WRITES = {"role-delete", "policy-remove", "vault-firewall", "vault-tag", "cosmos-identity"}
# Role assignments are not in `resourcechanges` (Resource Graph keeps them in authorizationresources).
NO_RESOURCE_CHANGE = {"sp-disable", "sp-remove", "role-delete", None}
# Resource Graph's generic table columns (§3).
ARG_COLUMNS = {
    "id", "name", "type", "tenantId", "kind", "location", "resourceGroup", "subscriptionId",
    "managedBy", "sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation",
}  # fmt: skip


def _edm(value: Any, edm: str, where: str) -> list[str]:
    """Every way `value` departs from the CSDL type `edm` (graph.* types from AUDIT_TYPES)."""
    if value is None:
        return []
    if m := re.fullmatch(r"Collection\((.+)\)", edm):
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a collection"]
        return [p for i, v in enumerate(value) for p in _edm(v, m.group(1), f"{where}[{i}]")]
    if edm == "Edm.String":
        return [] if isinstance(value, str) else [f"{where}: {value!r} is not an Edm.String"]
    if edm == "Edm.DateTimeOffset":
        return [] if is_iso(value) else [f"{where}: {value!r} is not an Edm.DateTimeOffset"]
    name = edm.removeprefix("graph.")
    if name in AUDIT_TYPES["enums"]:
        members = AUDIT_TYPES["enums"][name]
        return [] if value in members else [f"{where}: {value!r} is not one of {members}"]
    kind = AUDIT_TYPES["types"][name]
    if not isinstance(value, dict):
        return [f"{where}: {value!r} is not a graph.{name}"]
    out = []
    for key, item in value.items():
        if key.startswith("@odata."):
            continue
        if key in kind["properties"]:
            out += _edm(item, kind["properties"][key], f"{where}.{key}")
        elif not kind["open"]:
            out.append(f"{where}.{key}: graph.{name} (v1.0) has no such property")
    return out


def _arm(lab: Lab) -> tuple[str, str, str]:
    bearer = arm_token(lab)  # renews the diagnoser's secret where the scenario expired it
    return lab.urls["arm"], bearer, lab.env["DIAGNOSE_SUBSCRIPTION_ID"]


def _query(lab: Lab, bearer: str, query: str) -> tuple[int, Any]:
    base, _, sub = _arm(lab)
    reply = send(
        lab,
        "POST",
        f"{base}/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01",
        bearer,
        json={"subscriptions": [sub], "query": query},
    )
    return reply.status_code, reply.json()


def _change_problems(row: dict[str, Any], where: str) -> list[str]:
    out = [f"{where}.{k}: not a Resource Graph column" for k in row if k not in ARG_COLUMNS]
    props = row.get("properties") or {}
    out += [f"{where}.properties.{k}: not documented" for k in props if k not in CHANGE_PROPERTIES]
    attributes = props.get("changeAttributes") or {}
    out += [
        f"{where}.properties.changeAttributes.{k}: not documented"
        for k in attributes
        if k not in CHANGE_ATTRIBUTES
    ]
    if props.get("changeType") not in CHANGE_TYPES:
        out.append(f"{where}.properties.changeType: {props.get('changeType')!r}")
    if not is_iso(attributes.get("timestamp")):
        out.append(f"{where}.properties.changeAttributes.timestamp: not a time")
    if not isinstance(attributes.get("changesCount"), int):
        out.append(f"{where}.properties.changeAttributes.changesCount: not an integer")
    changes = props.get("changes")
    if props.get("changeType") != "Update" and changes:
        out.append(f"{where}.properties.changes: only documented for changeType Update")
    for path, change in (changes or {}).items():
        out += [
            f"{where}.properties.changes[{path!r}].{k}: not documented"
            for k in change
            if k not in PROPERTY_CHANGE
        ]
    return out


@pytest.mark.parametrize("scenario", WORLDS)
def test_activity_log_and_resource_graph_follow_the_models(lab, scenario: str) -> None:
    instance = lab(scenario)
    base, bearer, sub = _arm(instance)
    group = instance.env["DIAGNOSE_KEYVAULT_ID"].split("/")[4]
    flt = (
        "eventTimestamp ge '2000-01-01T00:00:00Z' and eventTimestamp le '2100-01-01T00:00:00Z' "
        f"and resourceGroupName eq '{group}'"
    )
    reply = get(
        instance,
        f"{base}/subscriptions/{sub}/providers/microsoft.insights/eventtypes/management/values",
        bearer,
        params={"api-version": "2015-04-01", "$filter": flt},
    )
    assert reply.status_code == 200, reply.text
    found = check_msrest(reply.json(), monitor.EventDataCollection, "activityLog")
    story = HISTORY.get(scenario)
    change = story.change if story else None
    assert bool(reply.json()["value"]) >= (change in ARM_WRITES), "the ARM write is in the log"

    status, body = _query(instance, bearer, "resourcechanges")
    assert status == 200, body
    found += check_msrest(body, resourcegraph.QueryResponse, "resourcechanges")
    assert bool(body["data"]) >= (change not in NO_RESOURCE_CHANGE), (
        "the change is a resource change"
    )
    for i, row in enumerate(body["data"]):
        found += _change_problems(row, f"resourcechanges.data[{i}]")
    status, body = _query(instance, bearer, "resources | project id, name, type")
    assert status == 200 and body["data"], body
    found += check_msrest(body, resourcegraph.QueryResponse, "resources")
    assert not found, "\n".join(found)


def test_resource_graph_errors_follow_the_model(lab) -> None:
    instance = lab()
    _, bearer, _ = _arm(instance)
    status, body = _query(instance, bearer, "resourcechanges | nosuchoperator")
    assert status == 400
    assert not check_msrest(body, resourcegraph.ErrorResponse), body


def _workspace(lab: Lab, query: str, bearer: str | None = None) -> tuple[int, Any]:
    arm_token(lab)
    bearer = bearer or token(credential(lab), lab.env["DIAGNOSE_LOGANALYTICS_URL"])
    url = f"{lab.env['DIAGNOSE_LOGANALYTICS_URL']}/v1/workspaces/{lab.env['DIAGNOSE_WORKSPACE_ID']}/query"
    reply = send(lab, "POST", url, bearer, json={"query": query, "timespan": "P7D"})
    return reply.status_code, reply.json()


@pytest.mark.parametrize("scenario", WORLDS)
def test_log_analytics_answers_follow_the_models(lab, scenario: str) -> None:
    instance = lab(scenario)
    found = []
    for table in ("AZKVAuditLogs", "CDBDataPlaneRequests"):
        status, body = _workspace(instance, f"{table} | take 50")
        assert status == 200, body
        found += [f"{table}: {p}" for p in check_typespec(body, logs.QueryResults)]
    assert instance.history is not None
    instance.history.mode = LEGACY  # the diagnostic settings' "Azure diagnostics" mode
    status, body = _workspace(instance, "AzureDiagnostics | take 50")
    assert status == 200, body
    found += [f"AzureDiagnostics: {p}" for p in check_typespec(body, logs.QueryResults)]
    assert not found, "\n".join(found)


# Live Log Analytics errors carry `error.correlationId` (verbatim answers quoted in
# docs/research/audit-and-inventory-shapes.md §4); the specification's errorInfo does not declare it.
LIVE_ONLY = "$.error.correlationId: ErrorInfo has no such field"


def test_log_analytics_errors_follow_the_model(lab) -> None:
    instance = lab()
    for query in ("AZKVAuditLogs | nosuchoperator", "NoSuchTable | take 1"):
        status, body = _workspace(instance, query)
        assert status == 400
        assert body["error"]["code"] == "BadArgumentError"
        assert set(check_typespec(body, logs.ErrorResponse)) <= {LIVE_ONLY}, body
    # AJO's runtime app has no right on the workspace: 403
    bearer = token(caller_credential(instance), instance.env["DIAGNOSE_LOGANALYTICS_URL"])
    status, body = _workspace(instance, "AZKVAuditLogs | take 1", bearer)
    assert status == 403 and body["error"]["code"] == "InsufficientAccessError", body
    assert set(check_typespec(body, logs.ErrorResponse)) <= {LIVE_ONLY}, body


@pytest.mark.parametrize("scenario", WORLDS)
def test_directory_audits_follow_the_published_types(lab, scenario: str) -> None:
    instance = lab(scenario)
    arm_token(instance)
    base = instance.urls["graph"]
    bearer = token(credential(instance), base)
    reply = get(instance, f"{base}/v1.0/auditLogs/directoryAudits", bearer)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) <= {"@odata.context", "@odata.nextLink", "value"}
    found = [
        p
        for i, item in enumerate(body["value"])
        for p in _edm(item, "graph.directoryAudit", f"value[{i}]")
    ]
    assert not found, "\n".join(found)


def test_the_walks_find_departures() -> None:
    """The checks themselves: an undeclared property, a wrong type and a non-member are found."""
    audit = {
        "id": "x",
        "activityDateTime": "not a time",
        "result": "maybe",
        "initiatedBy": {"user": {"id": "u", "extra": 1}, "app": {"nope": 1}},
        "notAProperty": 1,
    }
    problems = _edm(audit, "graph.directoryAudit", "$")
    assert any("activityDateTime" in p for p in problems)
    assert any("result" in p for p in problems)
    assert any("app.nope" in p for p in problems)
    assert any("notAProperty" in p for p in problems)
    assert not any("user.extra" in p for p in problems)  # userIdentity is an open type
    row = {"id": "x", "properties": {"changeType": "Moved", "changeAttributes": {"who": 1}}}
    problems = _change_problems(row, "$")
    assert any("changeType" in p for p in problems) and any("who" in p for p in problems)
    assert check_typespec({"tables": [{"name": "t", "columns": [], "rows": 1}]}, logs.QueryResults)


def test_the_type_list_names_its_source() -> None:
    assert re.fullmatch(r"[0-9a-f]{40}", AUDIT_TYPES["commit"])
    assert AUDIT_TYPES["commit"] in AUDIT_TYPES["source"]
