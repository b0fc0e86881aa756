"""Identities are not all alike (issue 12, defect 5): what the lab lets happen to each kind.

An application's service principal can be disabled, deleted to the directory's deleted items and
restored; a managed identity's principal belongs to its Azure resource (Graph refuses to PATCH it,
lab's choice modelled on the published refusals), and a deleted user-assigned identity is gone for
good: ARM answers 404 `ResourceNotFound`, Graph has no principal and nothing in deleted items.
"""

from __future__ import annotations

from diagnose.lab.derived import cmk_code
from diagnose.lab.roles import KV_CRYPTO_SERVICE_ENCRYPTION_USER
from tests.lab.sdk import (
    admin_credential,
    credential,
    deleted_principals,
    get,
    graph_v1,
    send,
    token,
)

UAI_VERSION = "2025-05-31-preview"  # what `az identity create` sends
COSMOS_VERSION = "2024-11-15"


def _admin_arm(lab) -> str:
    return token(admin_credential(lab), lab.urls["arm"])


def _arm(lab, method: str, path: str, bearer: str, version: str, **kwargs):
    return send(lab, method, f"{lab.urls['arm']}{path}?api-version={version}", bearer, **kwargs)


def test_graph_refuses_to_patch_a_managed_identitys_principal(lab) -> None:
    instance = lab()
    base, bearer = graph_v1(instance)
    cmk = instance.world.principals[instance.world.cmk_principal_id]
    assert cmk.type == "ManagedIdentity"
    for url in (
        f"{base}/servicePrincipals/{cmk.object_id}",
        f"{base}/servicePrincipals(appId='{cmk.app_id}')",
    ):
        reply = send(instance, "PATCH", url, bearer, json={"accountEnabled": False})
        assert reply.status_code == 403, reply.text
        assert reply.json()["error"]["code"] == "Authorization_RequestDenied"
    assert cmk.enabled is True
    assert [w.status for w in instance.writes()] == [403, 403]  # tried, refused, nothing changed


def test_sp_scenarios_use_an_application_that_can_be_disabled_and_restored(lab) -> None:
    for scenario in ("sp-disabled", "sp-deleted"):
        world = lab(scenario).world
        cmk = world.principals[world.cmk_principal_id]
        assert cmk.type == "Application" and not cmk.managed
        assert world.cosmos.default_identity.endswith(f"&FederatedClientId={cmk.app_id}")
        granted = [
            a
            for a in world.role_assignments
            if a.principal_id == cmk.object_id and a.role == KV_CRYPTO_SERVICE_ENCRYPTION_USER
        ]
        assert granted, "the key rights belong to the application's principal"
    assert world.principals[world.cmk_principal_id].restorable  # sp-deleted's


def test_a_deleted_user_assigned_identity_is_gone_for_good(lab) -> None:
    instance = lab("uami-deleted")
    world = instance.world
    (gone,) = world.deleted_identities
    assert world.identity(gone.id) is None and cmk_code(world) == 4000
    bearer = token(credential(instance), instance.urls["arm"])
    reply = get(instance, f"{instance.urls['arm']}{gone.id}?api-version=2023-01-31", bearer)
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "ResourceNotFound"
    assert (
        "Microsoft.ManagedIdentity/userAssignedIdentities/id-cosmos-cmk"
        in (reply.json()["error"]["message"])
    )
    base, graph = graph_v1(instance)
    assert (
        get(instance, f"{base}/servicePrincipals(appId='{gone.client_id}')", graph).status_code
        == 404
    )
    deleted = deleted_principals(instance, base, graph, gone.client_id)
    assert deleted == []
    restore = send(
        instance, "POST", f"{base}/directory/deletedItems/{gone.principal_id}/restore", graph
    )
    assert restore.status_code == 404
    assert restore.json()["error"]["code"] == "Request_ResourceNotFound"
    # the account still names it, with the ids it had; its role assignment stays, orphaned
    account = get(
        instance, f"{instance.urls['arm']}{world.cosmos.id}?api-version={COSMOS_VERSION}", bearer
    ).json()
    assert (
        account["identity"]["userAssignedIdentities"][gone.id]["principalId"] == gone.principal_id
    )
    assert any(a.principal_id == gone.principal_id for a in world.role_assignments)


def test_an_identity_created_again_is_a_new_principal_that_needs_the_key_again(lab) -> None:
    instance = lab("uami-deleted", propagation_s=0)
    world = instance.world
    (gone,) = world.deleted_identities
    bearer = _admin_arm(instance)
    created = _arm(instance, "PUT", gone.id, bearer, UAI_VERSION, json={"location": "westeurope"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (
        body["id"] == gone.id and body["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities"
    )
    new_principal = body["properties"]["principalId"]
    assert new_principal != gone.principal_id and body["properties"]["clientId"] != gone.client_id
    assert world.principals[new_principal].managed
    again = _arm(instance, "PUT", gone.id, bearer, UAI_VERSION, json={"location": "westeurope"})
    assert again.status_code == 200 and again.json()["properties"]["principalId"] == new_principal
    assert cmk_code(world) == 4002  # the deleted one's role assignment is not the new one's
    # the account's identities may change while it is revoked (troubleshoot-cmk's fix)
    patched = _arm(
        instance,
        "PATCH",
        world.cosmos.id,
        bearer,
        COSMOS_VERSION,
        json={"identity": {"type": "UserAssigned", "userAssignedIdentities": {gone.id: {}}}},
    )
    assert patched.status_code == 200, patched.text
    assert (
        patched.json()["identity"]["userAssignedIdentities"][gone.id]["principalId"]
        == new_principal
    )


def test_the_reader_cannot_create_an_identity(lab) -> None:
    instance = lab("uami-deleted")
    (gone,) = instance.world.deleted_identities
    bearer = token(credential(instance), instance.urls["arm"])
    reply = _arm(instance, "PUT", gone.id, bearer, UAI_VERSION, json={"location": "westeurope"})
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "AuthorizationFailed"
    assert instance.world.identity(gone.id) is None
