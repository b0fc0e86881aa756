"""Identities are not all alike (issue 12, defect 5): what the lab lets happen to each kind.

An application's service principal can be disabled, deleted to the directory's deleted items and
restored; a managed identity's principal belongs to its Azure resource (Graph refuses to PATCH it,
lab's choice modelled on the published refusals), and a deleted user-assigned identity is gone for
good: ARM answers 404 `ResourceNotFound`, Graph has no principal and nothing in deleted items.
Azure Cosmos DB's first-party identity is its own application's principal in the tenant, granted by
an access policy; the account's system-assigned identity is a managed identity's principal named
after the account, deleted for good when the account's identity drops SystemAssigned, and a new one
when it is enabled again (docs/lab.md "Identity kinds").
"""

from __future__ import annotations

import pytest

from diagnose.lab.derived import cmk_code
from diagnose.lab.roles import KV_CRYPTO_SERVICE_ENCRYPTION_USER
from diagnose.lab.services.graph import sp_properties
from diagnose.lab.world import (
    COSMOS_FIRST_PARTY_APP_ID,
    MICROSOFT_SERVICES_TENANT,
    cmk_identity_as_first_party,
    cmk_identity_as_system_assigned,
    remove_system_identity,
)
from tests.conformance.answers import arm_answers
from tests.conformance.graph import walk
from tests.conformance.models import check_msrest
from tests.conformance.test_arm_models import MODELS
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


# -- FirstPartyIdentity and SystemAssignedIdentity (world.cmk_identity_as_first_party, ..._system_assigned)


def _account(instance, bearer: str) -> dict:
    url = f"{instance.urls['arm']}{instance.world.cosmos.id}?api-version={COSMOS_VERSION}"
    reply = get(instance, url, bearer)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _made(lab, make):  # noqa: ANN001, ANN202 - a pytest factory and a world edit
    """A lab whose world `make` changes (still healthy), its principal, and the account as ARM
    then answers it to the diagnosing identity."""
    instance = lab()
    principal = make(instance.world)
    assert cmk_code(instance.world) is None
    bearer = token(credential(instance), instance.urls["arm"])
    return instance, principal, _account(instance, bearer)


def test_the_first_party_identity_is_azure_cosmos_dbs_application_in_the_tenant(lab) -> None:
    instance, principal, account = _made(lab, cmk_identity_as_first_party)
    world = instance.world
    assert account["properties"]["defaultIdentity"] == "FirstPartyIdentity"
    base, graph = graph_v1(instance)
    reply = get(instance, f"{base}/servicePrincipals(appId='{COSMOS_FIRST_PARTY_APP_ID}')", graph)
    assert reply.status_code == 200, reply.text
    sp = reply.json()
    assert (sp["id"], sp["displayName"]) == (principal.object_id, "Azure Cosmos DB")
    assert sp["servicePrincipalType"] == "Application" and sp["alternativeNames"] == []
    assert sp["appOwnerOrganizationId"] == MICROSOFT_SERVICES_TENANT != world.tenant_id
    # its application object lives in Microsoft's tenant, not the customer's
    app = get(instance, f"{base}/applications(appId='{COSMOS_FIRST_PARTY_APP_ID}')", graph)
    assert app.status_code == 404
    # granted by an access policy (get, wrapKey, unwrapKey), the vault in access-policy mode
    assert world.vault.rbac is False
    (policy,) = [p for p in world.vault.access_policies if p.object_id == principal.object_id]
    assert {"get", "wrapKey", "unwrapKey"} <= set(policy.keys)
    # deleting that access policy revokes the account (the how-to's "How do I revoke ...?"): 4002
    world.vault.access_policies.remove(policy)
    assert cmk_code(world) == 4002


def test_the_first_party_identity_may_hold_a_role_instead(lab) -> None:
    world = lab().world
    principal = cmk_identity_as_first_party(world, access_policy=False)
    assert world.vault.rbac is True and cmk_code(world) is None
    assert any(
        a.principal_id == principal.object_id and a.role == KV_CRYPTO_SERVICE_ENCRYPTION_USER
        for a in world.role_assignments
    )


def test_the_system_assigned_identity_is_the_accounts_principal(lab) -> None:
    instance, principal, account = _made(lab, cmk_identity_as_system_assigned)
    world = instance.world
    assert account["properties"]["defaultIdentity"] == "SystemAssignedIdentity"
    assert account["identity"]["type"] == "SystemAssigned,UserAssigned"
    assert account["identity"]["principalId"] == principal.object_id
    base, graph = graph_v1(instance)
    sp = get(instance, f"{base}/servicePrincipals/{principal.object_id}", graph).json()
    assert sp["servicePrincipalType"] == "ManagedIdentity"
    assert sp["displayName"] == world.cosmos.name  # named after its resource (Entra's overview)
    assert sp["alternativeNames"] == ["isExplicit=False", world.cosmos.id]
    # its resource manages it, not Graph
    patched = send(
        instance,
        "PATCH",
        f"{base}/servicePrincipals/{principal.object_id}",
        graph,
        json={"accountEnabled": False},
    )
    assert patched.status_code == 403 and principal.enabled


def test_a_removed_system_assigned_identity_is_gone_for_good(lab) -> None:
    instance = lab()
    world = instance.world
    principal = cmk_identity_as_system_assigned(world)
    remove_system_identity(world)
    bearer = token(credential(instance), instance.urls["arm"])
    account = _account(instance, bearer)
    assert account["identity"]["type"] == "UserAssigned"
    assert account["identity"]["principalId"] is None
    assert account["properties"]["defaultIdentity"] == "SystemAssignedIdentity"  # left as it was
    assert cmk_code(world) == 4015  # the default identity names no identity the account has
    base, graph = graph_v1(instance)
    reply = get(instance, f"{base}/servicePrincipals/{principal.object_id}", graph)
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "Request_ResourceNotFound"
    assert deleted_principals(instance, base, graph, principal.app_id) == []
    restore = send(
        instance, "POST", f"{base}/directory/deletedItems/{principal.object_id}/restore", graph
    )
    assert restore.status_code == 404
    # its grants stay, orphaned
    assert any(a.principal_id == principal.object_id for a in world.role_assignments)


def test_enabling_the_system_assigned_identity_again_is_a_new_principal(lab) -> None:
    """`az cosmosdb identity assign` on the revoked account (troubleshoot-cmk 1.5: assigning
    identities is allowed in the revoked state): a new principal, not granted the key yet."""
    instance = lab(propagation_s=0)
    world = instance.world
    old = cmk_identity_as_system_assigned(world)
    remove_system_identity(world)
    bearer = _admin_arm(instance)
    identity = {
        "type": "SystemAssigned,UserAssigned",
        "userAssignedIdentities": {i: {} for i in world.cosmos.user_assigned},
    }
    patched = _arm(
        instance, "PATCH", world.cosmos.id, bearer, COSMOS_VERSION, json={"identity": identity}
    )
    assert patched.status_code == 200, patched.text
    new = patched.json()["identity"]["principalId"]
    assert new and new != old.object_id and world.principals[new].system_assigned_to
    assert cmk_code(world) == 4002  # the removed principal's role assignment is not the new one's
    again = _arm(
        instance, "PATCH", world.cosmos.id, bearer, COSMOS_VERSION, json={"identity": identity}
    )
    assert again.json()["identity"]["principalId"] == new  # an account that has one keeps it
    dropped = _arm(
        instance,
        "PATCH",
        world.cosmos.id,
        bearer,
        COSMOS_VERSION,
        json={"identity": {**identity, "type": "UserAssigned"}},
    )
    assert dropped.json()["identity"]["principalId"] is None and world.principals[new].deleted


def test_an_identity_the_account_still_holds_is_not_made_anew_by_assigning_it(lab) -> None:
    """The account still shows its system-assigned identity whose principal is gone: assigning it
    again changes nothing (lab's choice); the runbook's remove, then assign, makes a new one."""
    instance = lab(propagation_s=0)
    world = instance.world
    old = cmk_identity_as_system_assigned(world)
    old.deleted_at = 1.0  # the principal is gone; the account's identity.type still says so
    bearer = _admin_arm(instance)
    identity = {
        "type": "SystemAssigned,UserAssigned",
        "userAssignedIdentities": {i: {} for i in world.cosmos.user_assigned},
    }

    def patch(body: dict) -> dict:
        answer = _arm(instance, "PATCH", world.cosmos.id, bearer, COSMOS_VERSION, json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()["identity"]

    assert patch({"identity": identity})["principalId"] == old.object_id  # still the gone one
    assert patch({"identity": {**identity, "type": "UserAssigned"}})["principalId"] is None
    new = patch({"identity": identity})["principalId"]
    assert new and new != old.object_id


@pytest.mark.parametrize("kind", ["first-party", "system-assigned", "system-assigned-removed"])
def test_the_answers_for_these_kinds_follow_the_published_models(lab, kind: str) -> None:
    """The conformance walk of tests/conformance, on these worlds (not scenarios): ARM's answers
    against the api-versions' models, Graph's principals against v1.0's published properties."""
    instance = lab()
    world = instance.world
    if kind == "first-party":
        cmk_identity_as_first_party(world)
    else:
        cmk_identity_as_system_assigned(world)
        if kind == "system-assigned-removed":
            remove_system_identity(world)
    problems = [
        f"{a.what} {a.url}: {p}"
        for a in arm_answers(instance)
        if a.status == 200
        for p in check_msrest(a.body, MODELS[a.what])
    ]
    base, graph = graph_v1(instance)
    for p in world.principals.values():
        if p.deleted:
            continue
        body = get(instance, f"{base}/servicePrincipals/{p.object_id}", graph).json()
        problems += walk(body, p.object_id, "servicePrincipal (v1.0)", sp_properties())
    assert not problems, "\n".join(problems)
