"""The lab's write paths that the printed fixes use, in the services' own shapes, through the world.

Plain HTTPS and the Key Vault SDK, as the lab's admin identity (the engineer who runs the fixes);
tests/lab/test_az_fixes.py drives the same paths with the Azure CLI.
"""

from __future__ import annotations

import pytest

from diagnose.lab.derived import cmk_code
from diagnose.lab.world import AccessPolicy
from tests.lab.sdk import admin_credential, credential, key_client, send, token


def _arm(lab, method: str, path: str, bearer: str, version: str = "2023-07-01", **kwargs):
    return send(lab, method, f"{lab.urls['arm']}{path}?api-version={version}", bearer, **kwargs)


def test_the_admin_identity_holds_the_rights_the_fixes_need(lab):
    instance = lab()
    world = instance.world
    roles = {
        world.role_definitions[a.role].name
        for a in world.role_assignments
        if a.principal_id == world.admin_id
    }
    assert roles == {"Owner", "Key Vault Administrator"}
    assert world.admin.app_roles == ["Application.ReadWrite.All"]
    assert world.admin.app_id not in instance.env.values()  # the profile stays the reader's


def test_vault_put_changes_what_the_body_names_and_keeps_the_rest(lab):
    instance = lab("kv-firewall", propagation_s=0)
    bearer = token(admin_credential(instance), instance.urls["arm"])
    vault = instance.env["DIAGNOSE_KEYVAULT_ID"]
    body = _arm(instance, "GET", vault, bearer).json()
    body["properties"]["networkAcls"]["bypass"] = "AzureServices"
    reply = _arm(instance, "PUT", vault, bearer, json=body)
    assert reply.status_code == 200
    assert reply.json()["properties"]["networkAcls"] == {
        "bypass": "AzureServices",
        "defaultAction": "Deny",
        "ipRules": [],
        "virtualNetworkRules": [],
    }
    assert cmk_code(instance.world) is None
    assert instance.world.vault.purge_protection  # not named in a way that changes it


def test_vault_put_refuses_to_turn_purge_protection_off(lab):
    instance = lab(propagation_s=0)
    bearer = token(admin_credential(instance), instance.urls["arm"])
    vault = instance.env["DIAGNOSE_KEYVAULT_ID"]
    body = _arm(instance, "GET", vault, bearer).json()
    body["properties"]["enablePurgeProtection"] = False
    reply = _arm(instance, "PUT", vault, bearer, json=body)
    assert reply.status_code == 400 and "irreversible" in reply.json()["error"]["message"]


def test_vault_put_needs_the_write_action(lab):
    instance = lab()
    bearer = token(credential(instance), instance.urls["arm"])  # the reader
    vault = instance.env["DIAGNOSE_KEYVAULT_ID"]
    reply = _arm(instance, "PUT", vault, bearer, json={"properties": {}})
    assert reply.status_code == 403
    assert "Microsoft.KeyVault/vaults/write" in reply.json()["error"]["message"]


def _policy(lab, keys: list[str]) -> dict:
    entry = {"tenantId": lab.world.tenant_id, "objectId": lab.world.cmk_principal_id}
    return {"properties": {"accessPolicies": [{**entry, "permissions": {"keys": keys}}]}}


@pytest.mark.parametrize(
    ("kind", "before", "keys", "after"),
    [
        ("add", None, ["get", "wrapKey", "unwrapKey"], ["get", "wrapKey", "unwrapKey"]),
        ("replace", None, ["get"], ["get"]),  # no policy yet: replace adds one
        ("replace", ["get", "wrapKey"], ["get"], ["get"]),
        ("remove", ["wrapKey"], ["wrapKey"], None),  # the last permission goes: the policy goes
    ],
)
def test_access_policy_updates(
    lab, kind: str, before: list[str] | None, keys: list[str], after: list[str] | None
):
    instance = lab("kv-access-policy-missing", propagation_s=0)
    world = instance.world
    if before is not None:  # the CMK identity's policy the update changes
        world.vault.access_policies.append(AccessPolicy(world.cmk_principal_id, before))
    bearer = token(admin_credential(instance), instance.urls["arm"])
    path = f"{instance.env['DIAGNOSE_KEYVAULT_ID']}/accessPolicies/{kind}"
    reply = _arm(instance, "PUT", path, bearer, json=_policy(instance, keys))
    assert reply.status_code == 200
    assert reply.json()["type"] == "Microsoft.KeyVault/vaults/accessPolicies"
    mine = [p.keys for p in world.vault.access_policies if p.object_id == world.cmk_principal_id]
    assert mine == ([after] if after else [])
    assert (cmk_code(world) is None) is (kind == "add")


def test_access_policy_add_merges(lab):
    instance = lab("kv-access-policy-missing", propagation_s=0)
    world = instance.world
    bearer = token(admin_credential(instance), instance.urls["arm"])
    path = f"{instance.env['DIAGNOSE_KEYVAULT_ID']}/accessPolicies/add"
    for keys in (["get"], ["get", "wrapKey"], ["unwrapKey"]):
        assert _arm(instance, "PUT", path, bearer, json=_policy(instance, keys)).ok
    mine = [p.keys for p in world.vault.access_policies if p.object_id == world.cmk_principal_id]
    assert mine == [["get", "wrapKey", "unwrapKey"]]
    assert cmk_code(world) is None


def test_access_policy_update_refuses_a_version_that_predates_it(lab):
    instance = lab("kv-access-policy-missing")
    bearer = token(admin_credential(instance), instance.urls["arm"])
    path = f"{instance.env['DIAGNOSE_KEYVAULT_ID']}/accessPolicies/add"
    reply = _arm(instance, "PUT", path, bearer, "2016-10-01", json=_policy(instance, ["get"]))
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "NoRegisteredProviderFound"


def test_a_deleted_key_is_read_and_recovered(lab):
    instance = lab("key-not-found", propagation_s=0)
    client = key_client(instance, admin_credential(instance))
    deleted = client.get_deleted_key("cmk")
    assert deleted.recovery_id == f"{instance.env['DIAGNOSE_KEYVAULT_URL']}deletedkeys/cmk"
    assert deleted.deleted_date is not None
    assert cmk_code(instance.world) == 4003
    recovered = client.begin_recover_deleted_key("cmk").result()
    assert recovered.name == "cmk" and recovered.properties.enabled
    assert cmk_code(instance.world) is None
    assert [(w.service, w.method, w.status) for w in instance.writes()] == [("vault", "POST", 200)]


def test_recovering_a_key_that_is_not_deleted_is_not_found(lab):
    from azure.core.exceptions import ResourceNotFoundError

    instance = lab()
    with pytest.raises(ResourceNotFoundError):
        key_client(instance, admin_credential(instance)).begin_recover_deleted_key("cmk").result()


def test_recovering_needs_the_recover_permission(lab):
    from azure.core.exceptions import HttpResponseError

    instance = lab("key-not-found")
    with pytest.raises(HttpResponseError) as info:  # Key Vault Crypto User has no recover action
        key_client(instance, credential(instance)).begin_recover_deleted_key("cmk").result()
    assert info.value.status_code == 403


def test_the_default_identity_can_be_set_on_a_revoked_account(lab):
    instance = lab("cosmos-identity-undefined", propagation_s=0)
    bearer = token(admin_credential(instance), instance.urls["arm"])
    account = instance.env["DIAGNOSE_COSMOS_ID"]
    identity = f"UserAssignedIdentity={instance.world.identities[0].id}"
    # what `az cosmosdb update --default-identity` sends: nulls change nothing
    body = {"properties": {"defaultIdentity": identity, "apiProperties": {"ServerVersion": None}}}
    reply = _arm(instance, "PATCH", account, bearer, "2024-11-15", json=body)
    assert reply.status_code == 200
    assert reply.json()["properties"]["customerManagedKeyStatus"].startswith("Access to the")
    other = {"properties": {"defaultIdentity": identity, "disableLocalAuth": False}}
    instance.world.cosmos.default_identity = "UserAssignedIdentity=/nowhere"
    refused = _arm(instance, "PATCH", account, bearer, "2024-11-15", json=other)
    assert refused.status_code == 400 and "Revoked Status" in refused.json()["error"]["message"]
