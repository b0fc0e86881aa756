"""The lab accepts every api-version the specification publishes for a type it serves, and
refuses any other as ARM does (400, ARM's error code and message shape)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from diagnose.checks.reads import API
from diagnose.lab.services.api_versions import published
from tests.lab.sdk import arm, credential, get, send, token

ROOT = Path(__file__).resolve().parents[2]


def _paths(lab) -> dict[str, str]:
    env = lab.env
    vault = env["DIAGNOSE_KEYVAULT_ID"]
    cosmos = lab.world.cosmos.id
    sub = f"/subscriptions/{env['DIAGNOSE_SUBSCRIPTION_ID']}"
    return {
        "microsoft.keyvault/vaults": vault,
        "microsoft.keyvault/vaults/keys": f"{vault}/keys/cmk",
        "microsoft.keyvault/vaults/accesspolicies": f"{vault}/accessPolicies/add",
        "microsoft.documentdb/databaseaccounts": cosmos,
        "microsoft.documentdb/databaseaccounts/sqlroleassignments": f"{cosmos}/sqlRoleAssignments",
        "microsoft.documentdb/databaseaccounts/sqlroledefinitions": f"{cosmos}/sqlRoleDefinitions",
        "microsoft.authorization/roleassignments": f"{vault}/providers/Microsoft.Authorization/roleAssignments",
        "microsoft.authorization/roledefinitions": f"{vault}/providers/Microsoft.Authorization/roleDefinitions",
        "microsoft.managedidentity/userassignedidentities": lab.world.identities[0].id,
        "microsoft.resources/subscriptions": sub,
        "microsoft.resources/resourcegroups": f"{sub}/resourceGroups/{lab.world.resource_group}",
        "microsoft.resources/tenants": "/tenants",
    }


# types the lab serves only for writing -> a body to send (an access policy it already has)
WRITE_ONLY = {
    "microsoft.keyvault/vaults/accesspolicies": {
        "properties": {"accessPolicies": [{"tenantId": "", "objectId": "", "permissions": {}}]}
    }
}


def test_the_data_file_is_what_the_script_writes(tmp_path: Path) -> None:
    out = tmp_path / "api_versions.json"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_api_versions.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    committed = ROOT / "diagnose" / "lab" / "services" / "api_versions.json"
    assert json.loads(out.read_text()) == json.loads(committed.read_text())


def test_the_tool_asks_for_published_versions() -> None:
    assert API["vault"] in published()["microsoft.keyvault/vaults"]
    assert API["key"] in published()["microsoft.keyvault/vaults/keys"]
    assert API["cosmos"] in published()["microsoft.documentdb/databaseaccounts"]
    assert API["authorization"] in published()["microsoft.authorization/roleassignments"]
    assert API["identity"] in published()["microsoft.managedidentity/userassignedidentities"]


def test_every_published_version_is_accepted(lab) -> None:
    instance = lab()
    bearer = token(credential(instance), instance.urls["arm"])
    paths = _paths(instance)
    assert set(paths) == set(published())
    refused = []
    for rtype, path in paths.items():
        for version in published()[rtype]:
            if rtype in WRITE_ONLY:  # answered 403 for the reader, after the version is accepted
                url = f"{instance.urls['arm']}{path}?api-version={version}"
                reply = send(instance, "PUT", url, bearer, json=WRITE_ONLY[rtype])
                if reply.status_code == 403 and "AuthorizationFailed" in reply.text:
                    continue
            else:
                reply = arm(instance, path, bearer, version)
            if reply.status_code != 200:
                refused.append((rtype, version, reply.status_code, reply.text[:120]))
    assert not refused


@pytest.mark.parametrize(
    ("rtype", "version", "code"),
    [
        ("microsoft.keyvault/vaults/keys", "2018-02-14", "NoRegisteredProviderFound"),
        ("microsoft.keyvault/vaults", "2024-11-15", "NoRegisteredProviderFound"),
        ("microsoft.documentdb/databaseaccounts", "2023-07-01", "NoRegisteredProviderFound"),
        (
            "microsoft.managedidentity/userassignedidentities",
            "2099-01-01",
            "NoRegisteredProviderFound",
        ),
        ("microsoft.authorization/roleassignments", "2024-11-15", "InvalidApiVersionParameter"),
        ("microsoft.resources/subscriptions", "1", "InvalidApiVersionParameter"),
        ("microsoft.resources/resourcegroups", "2024-11-15", "InvalidApiVersionParameter"),
    ],
)
def test_other_versions_are_refused_as_arm_does(lab, rtype: str, version: str, code: str) -> None:
    instance = lab()
    bearer = token(credential(instance), instance.urls["arm"])
    reply = arm(instance, _paths(instance)[rtype], bearer, version)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == code
    if code == "NoRegisteredProviderFound":
        short = rtype.split("/", 1)[1]
        assert (
            error["message"]
            .lower()
            .startswith(
                f"no registered resource provider found for location '{instance.world.location}' "
                f"and api version '{version}' for type '{short}'. the supported api-versions are '"
            )
        )
        assert ", ".join(published()[rtype]) in error["message"]
    else:
        assert error["message"].startswith(f"The api-version '{version}' is invalid. ")
        assert ",".join(reversed(published()[rtype])) in error["message"]


def test_a_bad_token_is_refused_before_the_version(lab) -> None:
    instance = lab()
    reply = arm(instance, instance.env["DIAGNOSE_KEYVAULT_ID"], "not-a-token", "1999-01-01")
    assert reply.status_code == 401


@pytest.mark.parametrize(
    ("service", "supported"),
    [
        ("activity-log", ("2015-04-01",)),
        ("resource-graph", ("2019-04-01", "2021-03-01", "2022-10-01", "2024-04-01")),
    ],
)
def test_the_activity_log_and_resource_graph_refuse_versions_in_arms_words(
    lab, service: str, supported: tuple[str, ...]
) -> None:
    """Missing: MissingApiVersionParameter; another: InvalidApiVersionParameter listing theirs,
    newest first (the same words as ARM's own types, from one place in the lab)."""
    instance = lab()
    bearer = token(credential(instance), instance.urls["arm"])
    sub = f"/subscriptions/{instance.env['DIAGNOSE_SUBSCRIPTION_ID']}"
    base = instance.urls["arm"]

    def ask(version: str | None) -> Any:
        query = f"?api-version={version}" if version else ""
        if service == "activity-log":
            url = f"{base}{sub}/providers/microsoft.insights/eventtypes/management/values{query}"
            return get(instance, url, bearer)
        url = f"{base}/providers/Microsoft.ResourceGraph/resources{query}"
        body = {"subscriptions": [sub.rsplit("/", 1)[1]], "query": "resources | take 1"}
        return send(instance, "POST", url, bearer, json=body)

    missing, other = ask(None), ask("2099-01-01")
    assert (missing.status_code, missing.json()["error"]["code"]) == (
        400,
        "MissingApiVersionParameter",
    )
    assert other.status_code == 400 and other.json()["error"] == {
        "code": "InvalidApiVersionParameter",
        "message": f"The api-version '2099-01-01' is invalid. The supported versions are "
        f"'{','.join(reversed(supported))}'.",
    }
    accepted = ask(supported[-1])  # past the version (the Activity Log then wants a $filter)
    assert "ApiVersion" not in accepted.json().get("error", {}).get("code", ""), accepted.text
