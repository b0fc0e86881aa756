"""Graph `application` answers (the dated credentials `--horizon` reads), in every scenario,
against the properties and complex types Microsoft Graph v1.0 publishes
(diagnose/lab/services/graph_application.json, from msgraph-metadata's CSDL by
scripts/gen_graph_types.py), and `$select` refusing a name v1.0 lacks as Graph does."""

from __future__ import annotations

from typing import Any

import pytest

from diagnose.lab.scenarios import SCENARIOS
from diagnose.lab.services.graph import application_types
from tests.conformance.graph import graph, walk
from tests.lab.sdk import get

CREDENTIALS = {"passwordCredentials": "passwordCredential", "keyCredentials": "keyCredential"}


def problems(body: dict[str, Any], where: str) -> list[str]:
    published = application_types()
    nested = {key: (name, published["types"][name]) for key, name in CREDENTIALS.items()}
    return walk(body, where, "application (v1.0)", published["properties"], nested=nested)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_applications_follow_the_published_properties(lab, scenario: str) -> None:
    instance = lab(scenario)
    base, bearer = graph(instance)
    found, checked = [], 0
    for p in instance.world.principals.values():
        reply = get(instance, f"{base}/v1.0/applications(appId='{p.app_id}')", bearer)
        if reply.status_code == 404:  # a managed identity, or an app registered in another tenant
            continue
        assert reply.status_code == 200, (p.app_id, reply.text)
        body = reply.json()
        found += problems(body, f"applications(appId='{p.app_id}')")
        by_id = get(instance, f"{base}/v1.0/applications/{body['id']}", bearer)
        found += problems(by_id.json(), f"applications/{body['id']}")
        checked += 1
    assert checked >= 1  # the diagnosing identity's own application, at least
    assert not found, "\n".join(found)


def test_a_planted_field_fails_the_walk() -> None:
    """The walk can fail: a field v1.0 lacks, and a credential field of the wrong type."""
    planted = {
        "id": "00000000-0000-0000-0000-000000000001",
        "notInGraph": 1,
        "passwordCredentials": [{"endDateTime": "tomorrow", "secret": "x"}],
    }
    found = problems(planted, "app")
    assert "app.notInGraph: application (v1.0) has no such property" in found
    assert "app.passwordCredentials[0].endDateTime: 'tomorrow' is not a Edm.DateTimeOffset" in found
    assert "app.passwordCredentials[0].secret: passwordCredential has no such field" in found


def test_select_follows_the_published_properties(lab) -> None:
    instance = lab()
    base, bearer = graph(instance)
    app_id = instance.world.diagnoser.app_id
    url = f"{base}/v1.0/applications(appId='{app_id}')"
    chosen = "id,appId,passwordCredentials,keyCredentials,tags"  # tags: published, not modelled
    body = get(instance, url, bearer, params={"$select": chosen}).json()
    assert set(body) - {"@odata.context"} == set(chosen.split(","))
    refused = get(instance, url, bearer, params={"$select": "id,notAProperty"})
    assert refused.status_code == 400
    assert "notAProperty" in refused.json()["error"]["message"]
