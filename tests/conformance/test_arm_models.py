"""Every ARM answer the lab gives, in every scenario, walked against the official model of the
api-version the tool asks for (azure-mgmt-* packages of the test extra; no skip without them)."""

from __future__ import annotations

import importlib

import pytest

# The models of exactly the api-versions in diagnose.checks.reads.API (asserted below).
from azure.mgmt.authorization.v2022_04_01 import models as authorization
from azure.mgmt.cosmosdb import models as cosmosdb
from azure.mgmt.keyvault.v2023_07_01 import models as keyvault
from azure.mgmt.msi.v2023_01_31 import models as msi

from diagnose.checks.reads import API
from diagnose.lab.scenarios import SCENARIOS
from tests.conformance.answers import arm_answers
from tests.conformance.models import check_msrest

MODELS = {
    "vault": keyvault.Vault,
    "key": keyvault.Key,
    "keys": keyvault.KeyListResult,
    "cosmos": cosmosdb.DatabaseAccountGetResults,
    "sqlRoleAssignments": cosmosdb.SqlRoleAssignmentListResult,
    "sqlRoleDefinitions": cosmosdb.SqlRoleDefinitionListResult,
    "sqlRoleDefinition": cosmosdb.SqlRoleDefinitionGetResults,
    "roleAssignments": authorization.RoleAssignmentListResult,
    "roleDefinition": authorization.RoleDefinition,
    "identity": msi.Identity,
}


def test_the_models_are_those_of_the_tool_api_versions() -> None:
    """The packages pinned in the test extra carry the tool's api-versions, not newer ones."""
    assert API["vault"] == API["key"] == "2023-07-01"  # azure.mgmt.keyvault.v2023_07_01
    assert API["authorization"] == "2022-04-01"  # azure.mgmt.authorization.v2022_04_01
    assert API["identity"] == "2023-01-31"  # azure.mgmt.msi.v2023_01_31
    config = importlib.import_module("azure.mgmt.cosmosdb._configuration")
    client_config = config.CosmosDBManagementClientConfiguration
    assert client_config(object(), "sub").api_version == API["cosmos"]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_arm_answers_follow_the_models(lab, scenario: str) -> None:
    instance = lab(scenario)
    answers = arm_answers(instance)
    problems = []
    checked = 0
    for answer in answers:
        if answer.status != 200:
            continue
        checked += 1
        problems += [
            f"{answer.what} {answer.url}: {p}"
            for p in check_msrest(answer.body, MODELS[answer.what])
        ]
    assert checked >= 3, [(a.what, a.status) for a in answers]
    assert not problems, "\n".join(problems)


def test_the_walk_finds_what_models_drop() -> None:
    """The walker itself: an unknown field, a wrong type and a non-member enum value are found."""
    body = {
        "id": "/x",
        "kind": "NotAKind",
        "properties": {"databaseAccountOfferType": "Standard", "notInModel": 1},
        "identity": {"type": "UserAssigned", "principalId": 5},
    }
    problems = check_msrest(body, cosmosdb.DatabaseAccountGetResults)
    assert any("$.properties.notInModel" in p for p in problems), problems
    assert any("$.kind" in p and "DatabaseAccountKind" in p for p in problems), problems
    assert any("$.identity.principalId" in p for p in problems), problems
