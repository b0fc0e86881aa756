"""Graph: service principals, deleted items, restore, PATCH and getByIds."""

from __future__ import annotations

from tests.lab.sdk import caller_credential, deleted_principals, get, graph_v1, send, token


def test_principal_by_app_id_object_id_and_filters(lab):
    lab = lab()
    base, bearer = graph_v1(lab)
    app_id = lab.env["DIAGNOSE_PRINCIPAL_APP_ID"]
    sp = get(lab, f"{base}/servicePrincipals(appId='{app_id}')", bearer).json()
    assert sp["appId"] == app_id
    assert sp["accountEnabled"] is True
    assert sp["disabledByMicrosoftStatus"] is None
    assert sp["servicePrincipalType"] == "ManagedIdentity"
    assert get(lab, f"{base}/servicePrincipals/{sp['id']}", bearer).json()["appId"] == app_id
    listed = get(
        lab, f"{base}/servicePrincipals", bearer, params={"$filter": f"appId eq '{app_id}'"}
    ).json()
    assert [p["id"] for p in listed["value"]] == [sp["id"]]
    by_name = get(
        lab,
        f"{base}/servicePrincipals",
        bearer,
        params={"$filter": f"servicePrincipalNames/any(c:c eq '{app_id}')"},
    ).json()
    assert [p["id"] for p in by_name["value"]] == [sp["id"]]


def test_disabled_principal_reads_account_enabled_false(lab):
    lab = lab("sp-disabled")
    base, bearer = graph_v1(lab)
    sp = get(
        lab, f"{base}/servicePrincipals(appId='{lab.env['DIAGNOSE_PRINCIPAL_APP_ID']}')", bearer
    ).json()
    assert sp["accountEnabled"] is False


def test_deleted_principal_is_404_and_restorable(lab):
    lab = lab("sp-deleted")
    base, bearer = graph_v1(lab)
    app_id = lab.env["DIAGNOSE_PRINCIPAL_APP_ID"]
    resp = get(lab, f"{base}/servicePrincipals(appId='{app_id}')", bearer)
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "Request_ResourceNotFound"
    deleted = deleted_principals(lab, base, bearer, app_id)
    assert len(deleted) == 1 and deleted[0]["deletedDateTime"]
    restored = send(
        lab, "POST", f"{base}/directory/deletedItems/{deleted[0]['id']}/restore", bearer
    )
    assert restored.status_code == 200
    assert get(lab, f"{base}/servicePrincipals(appId='{app_id}')", bearer).status_code == 200
    assert [r.path for r in lab.writes()] == [
        f"/v1.0/directory/deletedItems/{deleted[0]['id']}/restore"
    ]


def test_patch_account_enabled(lab):
    lab = lab("sp-disabled")
    base, bearer = graph_v1(lab)
    sp_id = lab.world.cmk_principal_id
    resp = send(
        lab, "PATCH", f"{base}/servicePrincipals/{sp_id}", bearer, json={"accountEnabled": True}
    )
    assert resp.status_code == 204
    assert get(lab, f"{base}/servicePrincipals/{sp_id}", bearer).json()["accountEnabled"] is True
    (write,) = lab.writes()
    assert (write.service, write.method, write.status) == ("graph", "PATCH", 204)
    assert write.caller_app_id == lab.env["AZURE_CLIENT_ID"]


def test_patch_rejects_bad_bodies_in_graph_shape(lab):
    lab = lab()
    base, bearer = graph_v1(lab)
    sp_id = lab.world.caller_id  # an application's principal (a managed identity's is refused)
    resp = send(
        lab,
        "PATCH",
        f"{base}/servicePrincipals/{sp_id}",
        bearer,
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["code"]
    resp = send(
        lab, "PATCH", f"{base}/servicePrincipals/{sp_id}", bearer, json={"accountEnabled": "yes"}
    )
    assert resp.status_code == 400
    assert lab.world.principals[sp_id].enabled is True


def test_get_by_ids(lab):
    lab = lab()
    base, bearer = graph_v1(lab)
    ids = [
        lab.world.diagnoser_id,
        lab.world.cmk_principal_id,
        "00000000-0000-0000-0000-00000000dead",
    ]
    found = send(
        lab,
        "POST",
        f"{base}/directoryObjects/getByIds",
        bearer,
        json={"ids": ids, "types": ["servicePrincipal"]},
    ).json()["value"]
    assert {o["id"] for o in found} == set(ids[:2])


def test_caller_without_graph_roles_is_denied(lab):
    lab = lab()
    bearer = token(caller_credential(lab), "https://graph.microsoft.com")
    resp = get(
        lab, f"{lab.urls['graph']}/v1.0/servicePrincipals/{lab.world.cmk_principal_id}", bearer
    )
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "Authorization_RequestDenied"
