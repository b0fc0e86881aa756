"""Graph `servicePrincipal` answers, in every scenario, against the properties Microsoft Graph v1.0
publishes (diagnose/lab/services/graph_properties.json, from msgraph-metadata's CSDL by
scripts/gen_graph_types.py), and the lab honouring `$select` as Graph does for the tool's reads
(diagnose.checks.reads.SP_FIELDS)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from diagnose.checks.reads import SP_FIELDS
from diagnose.lab.scenarios import SCENARIOS
from diagnose.lab.services.graph import sp_properties
from tests.conformance.graph import graph, walk
from tests.lab.sdk import get


def problems(body: dict[str, Any], where: str) -> list[str]:
    return walk(body, where, "servicePrincipal (v1.0)", sp_properties())


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_service_principals_follow_the_published_properties(lab, scenario: str) -> None:
    instance = lab(scenario)
    base, bearer = graph(instance)
    found = []
    checked = 0
    for p in instance.world.principals.values():
        path = "directory/deletedItems" if p.deleted else "servicePrincipals"
        reply = get(instance, f"{base}/v1.0/{path}/{p.object_id}", bearer)
        if p.deleted and not p.restorable:  # a deleted managed identity's: gone for good
            assert reply.status_code == 404, (p.object_id, reply.text)
            continue
        assert reply.status_code == 200, (p.object_id, reply.text)
        found += problems(reply.json(), f"{path}/{p.object_id}")
        checked += 1
    deleted = get(
        instance, f"{base}/v1.0/directory/deletedItems/microsoft.graph.servicePrincipal", bearer
    )
    for i, item in enumerate(deleted.json()["value"]):
        found += problems(item, f"deletedItems[{i}]")
    assert checked >= 2
    assert not found, "\n".join(found)


def test_select_returns_what_the_tool_asks_for_and_only_that(lab) -> None:
    instance = lab()
    base, bearer = graph(instance)
    caller = instance.world.principals[instance.world.caller_id]
    for url in (
        f"{base}/v1.0/servicePrincipals(appId='{caller.app_id}')",
        f"{base}/v1.0/servicePrincipals/{caller.object_id}",
    ):
        body = get(instance, url, bearer, params={"$select": SP_FIELDS}).json()
        assert set(body) - {"@odata.context"} == set(SP_FIELDS.split(","))
        assert body["appId"] == caller.app_id
        full = get(instance, url, bearer).json()
        assert len(set(full) - {"@odata.context", "@odata.type"}) > len(SP_FIELDS.split(","))


def test_select_of_a_property_graph_lacks_is_refused(lab) -> None:
    instance = lab()
    base, bearer = graph(instance)
    caller = instance.world.principals[instance.world.caller_id]
    reply = get(
        instance,
        f"{base}/v1.0/servicePrincipals/{caller.object_id}",
        bearer,
        params={"$select": "id,notAProperty"},
    )
    assert reply.status_code == 400
    assert "notAProperty" in reply.json()["error"]["message"]


def test_the_property_list_names_its_source() -> None:
    import json
    from pathlib import Path

    import diagnose.lab.services.graph as graph

    data = json.loads(Path(graph.__file__).with_name("graph_properties.json").read_text())
    assert re.fullmatch(r"[0-9a-f]{40}", data["commit"])
    assert data["commit"] in data["source"]
    assert {"accountEnabled", "isDisabled", "servicePrincipalType", "id"} <= set(sp_properties())
