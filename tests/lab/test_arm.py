"""ARM: metadata, subscriptions, RBAC listing and definitions, the vault, the key, Cosmos DB."""

from __future__ import annotations

from tests.lab.sdk import arm, caller_credential, credential, get, send, token

KV_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"


def _bearer(lab):
    return token(credential(lab), "https://management.azure.com")


def test_cloud_metadata_is_public_and_points_at_the_lab(lab):
    lab = lab()
    meta = get(lab, f"{lab.urls['arm']}/metadata/endpoints?api-version=2022-09-01").json()
    assert meta["authentication"]["loginEndpoint"].rstrip("/") == lab.urls["entra"]
    assert meta["resourceManager"].rstrip("/") == lab.urls["arm"]
    assert meta["microsoftGraphResourceId"].rstrip("/") == lab.urls["graph"]
    assert meta["suffixes"]["keyVaultDns"] == lab.urls["vault"].split("://")[1]


def test_subscriptions_lists_the_one_subscription(lab):
    lab = lab()
    subs = get(lab, f"{lab.urls['arm']}/subscriptions?api-version=2022-12-01", _bearer(lab)).json()[
        "value"
    ]
    assert [(s["subscriptionId"], s["state"], s["tenantId"]) for s in subs] == [
        (lab.env["DIAGNOSE_SUBSCRIPTION_ID"], "Enabled", lab.env["AZURE_TENANT_ID"])
    ]


def test_role_assignments_at_vault_scope_include_inherited(lab):
    lab = lab()
    bearer = _bearer(lab)
    vault = lab.env["DIAGNOSE_KEYVAULT_ID"]
    diag = lab.world.diagnoser_id
    mine = arm(
        lab,
        f"{vault}/providers/Microsoft.Authorization/roleAssignments",
        bearer,
        "2022-04-01",
        params={"$filter": f"assignedTo('{diag}')"},
    ).json()["value"]
    scopes = sorted(a["properties"]["scope"] for a in mine)
    assert scopes == sorted([f"/subscriptions/{lab.env['DIAGNOSE_SUBSCRIPTION_ID']}", vault])
    cmk = arm(
        lab,
        f"{vault}/providers/Microsoft.Authorization/roleAssignments",
        bearer,
        "2022-04-01",
        params={"$filter": f"principalId eq '{lab.world.cmk_principal_id}'"},
    ).json()["value"]
    assert [a["properties"]["roleDefinitionId"].rsplit("/", 1)[1] for a in cmk] == [
        KV_CRYPTO_SERVICE_ENCRYPTION_USER
    ]


def test_role_assignment_listing_without_filter_includes_scopes_below(lab):
    lab = lab()
    sub = f"/subscriptions/{lab.env['DIAGNOSE_SUBSCRIPTION_ID']}"
    bearer = _bearer(lab)
    everything = arm(
        lab, f"{sub}/providers/Microsoft.Authorization/roleAssignments", bearer, "2022-04-01"
    ).json()["value"]
    at_scope = arm(
        lab,
        f"{sub}/providers/Microsoft.Authorization/roleAssignments",
        bearer,
        "2022-04-01",
        params={"$filter": "atScope()"},
    ).json()["value"]
    assert len(everything) == len(lab.world.role_assignments)
    assert {a["properties"]["scope"] for a in at_scope} == {sub}
    assert len(at_scope) < len(everything)


def test_kv_role_missing_removes_the_cmk_identitys_assignment(lab):
    lab = lab("kv-role-missing")
    vault = lab.env["DIAGNOSE_KEYVAULT_ID"]
    found = arm(
        lab,
        f"{vault}/providers/Microsoft.Authorization/roleAssignments",
        _bearer(lab),
        "2022-04-01",
        params={"$filter": f"assignedTo('{lab.world.cmk_principal_id}')"},
    ).json()["value"]
    assert found == []


def test_role_definitions_have_real_data_actions_and_matching_ids(lab):
    lab = lab()
    bearer = _bearer(lab)
    sub = f"/subscriptions/{lab.env['DIAGNOSE_SUBSCRIPTION_ID']}"
    one = arm(
        lab,
        f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{KV_CRYPTO_SERVICE_ENCRYPTION_USER}",
        bearer,
        "2022-04-01",
    ).json()
    assert one["properties"]["roleName"] == "Key Vault Crypto Service Encryption User"
    assert (
        "Microsoft.KeyVault/vaults/keys/wrap/action"
        in one["properties"]["permissions"][0]["dataActions"]
    )
    listed = arm(
        lab,
        f"{lab.env['DIAGNOSE_KEYVAULT_ID']}/providers/Microsoft.Authorization/roleDefinitions",
        bearer,
        "2022-04-01",
    ).json()["value"]
    ids = {d["id"] for d in listed}
    assignments = arm(
        lab, f"{sub}/providers/Microsoft.Authorization/roleAssignments", bearer, "2022-04-01"
    ).json()["value"]
    assert {a["properties"]["roleDefinitionId"] for a in assignments} <= ids
    officer = next(d for d in listed if d["properties"]["roleName"] == "Key Vault Crypto Officer")
    assert (
        "Microsoft.KeyVault/vaults/keys/*" in officer["properties"]["permissions"][0]["dataActions"]
    )


def test_vault_resource(lab):
    lab = lab()
    vault = arm(lab, lab.env["DIAGNOSE_KEYVAULT_ID"], _bearer(lab), "2023-07-01").json()[
        "properties"
    ]
    assert vault["enableSoftDelete"] is True and vault["enablePurgeProtection"] is True
    assert vault["enableRbacAuthorization"] is True
    assert vault["networkAcls"]["defaultAction"] == "Allow"
    assert vault["vaultUri"] == lab.env["DIAGNOSE_KEYVAULT_URL"]


def test_vault_variants(lab):
    off = lab("purge-protection-off")
    props = arm(off, off.env["DIAGNOSE_KEYVAULT_ID"], _bearer(off), "2023-07-01").json()[
        "properties"
    ]
    assert not props.get("enablePurgeProtection")  # ARM omits it when never set
    firewall = lab("kv-firewall")
    acls = arm(
        firewall, firewall.env["DIAGNOSE_KEYVAULT_ID"], _bearer(firewall), "2023-07-01"
    ).json()["properties"]["networkAcls"]
    assert (acls["defaultAction"], acls["bypass"]) == ("Deny", "None")
    policies = lab("kv-access-policy-missing")
    props = arm(
        policies, policies.env["DIAGNOSE_KEYVAULT_ID"], _bearer(policies), "2023-07-01"
    ).json()["properties"]
    assert props["enableRbacAuthorization"] is False
    assert [p["objectId"] for p in props["accessPolicies"]] == [policies.world.diagnoser_id]


def test_key_resource_readable_even_when_disabled(lab):
    lab = lab("key-disabled")
    key = arm(
        lab, lab.env["DIAGNOSE_KEYVAULT_ID"] + "/keys/cmk", _bearer(lab), "2023-07-01"
    ).json()["properties"]
    assert key["attributes"]["enabled"] is False
    assert key["kty"] == "RSA" and key["keySize"] == 3072
    assert {"wrapKey", "unwrapKey"} <= set(key["keyOps"])
    assert key["keyUri"] == lab.env["DIAGNOSE_KEY_ID"]
    assert key["keyUriWithVersion"].startswith(lab.env["DIAGNOSE_KEY_ID"] + "/")


def test_cosmos_account_and_its_identity(lab):
    lab = lab()
    bearer = _bearer(lab)
    account = arm(lab, lab.env["DIAGNOSE_COSMOS_ID"], bearer).json()
    props = account["properties"]
    assert props["keyVaultKeyUri"] == lab.env["DIAGNOSE_KEY_ID"]
    assert (
        props["customerManagedKeyStatus"]
        == "Access to the configured customer managed key confirmed."
    )
    assert props["disableLocalAuth"] is True
    identity_id = props["defaultIdentity"].split("=", 1)[1]
    assert (
        account["identity"]["userAssignedIdentities"][identity_id]["clientId"]
        == lab.env["DIAGNOSE_PRINCIPAL_APP_ID"]
    )
    uai = arm(lab, identity_id, bearer, "2023-01-31").json()["properties"]
    assert uai["clientId"] == lab.env["DIAGNOSE_PRINCIPAL_APP_ID"]
    assert uai["principalId"] == lab.world.cmk_principal_id


def test_sql_role_assignments_and_definitions(lab):
    lab = lab()
    bearer = _bearer(lab)
    cosmos = lab.env["DIAGNOSE_COSMOS_ID"]
    assignments = arm(lab, cosmos + "/sqlRoleAssignments", bearer).json()["value"]
    caller = next(a for a in assignments if a["properties"]["principalId"] == lab.world.caller_id)
    definition = arm(lab, caller["properties"]["roleDefinitionId"], bearer).json()
    assert definition["properties"]["roleName"] == "Cosmos DB Built-in Data Contributor"
    assert len(arm(lab, cosmos + "/sqlRoleDefinitions", bearer).json()["value"]) == 2


def test_not_found_shapes(lab):
    lab = lab()
    bearer = _bearer(lab)
    sub = f"/subscriptions/{lab.env['DIAGNOSE_SUBSCRIPTION_ID']}"
    missing_group = arm(
        lab, f"{sub}/resourceGroups/nope/providers/Microsoft.KeyVault/vaults/kv", bearer
    )
    assert (missing_group.status_code, missing_group.json()["error"]["code"]) == (
        404,
        "ResourceGroupNotFound",
    )
    missing = arm(
        lab, f"{sub}/resourceGroups/rg-ajo-cmk/providers/Microsoft.KeyVault/vaults/other", bearer
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "ResourceNotFound")
    wrong_sub = arm(
        lab, "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg", bearer
    )
    assert (wrong_sub.status_code, wrong_sub.json()["error"]["code"]) == (
        404,
        "SubscriptionNotFound",
    )


def test_deleted_key_resource_is_404(lab):
    lab = lab("key-not-found")
    resp = arm(lab, lab.env["DIAGNOSE_KEYVAULT_ID"] + "/keys/cmk", _bearer(lab), "2023-07-01")
    assert (resp.status_code, resp.json()["error"]["code"]) == (404, "ResourceNotFound")


def test_caller_without_arm_role_gets_authorization_failed(lab):
    lab = lab()
    bearer = token(caller_credential(lab), "https://management.azure.com")
    resp = arm(lab, lab.env["DIAGNOSE_KEYVAULT_ID"], bearer)
    assert resp.status_code == 403
    error = resp.json()["error"]
    assert error["code"] == "AuthorizationFailed"
    assert "Microsoft.KeyVault/vaults/read" in error["message"]


def test_missing_token_and_missing_api_version(lab):
    lab = lab()
    resp = get(lab, f"{lab.urls['arm']}{lab.env['DIAGNOSE_KEYVAULT_ID']}?api-version=2023-07-01")
    assert (resp.status_code, resp.json()["error"]["code"]) == (401, "AuthenticationFailed")
    resp = get(lab, f"{lab.urls['arm']}{lab.env['DIAGNOSE_KEYVAULT_ID']}", _bearer(lab))
    assert (resp.status_code, resp.json()["error"]["code"]) == (400, "MissingApiVersionParameter")


def test_role_assignment_put_needs_write_rights(lab):
    lab = lab("kv-role-missing")
    vault = lab.env["DIAGNOSE_KEYVAULT_ID"]
    url = f"{lab.urls['arm']}{vault}/providers/Microsoft.Authorization/roleAssignments/8a4d2c1e-0000-4000-8000-000000000001?api-version=2022-04-01"
    body = {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{lab.env['DIAGNOSE_SUBSCRIPTION_ID']}/providers/Microsoft.Authorization/roleDefinitions/{KV_CRYPTO_SERVICE_ENCRYPTION_USER}",
            "principalId": lab.world.cmk_principal_id,
        }
    }
    resp = send(lab, "PUT", url, _bearer(lab), json=body)
    assert (resp.status_code, resp.json()["error"]["code"]) == (403, "AuthorizationFailed")
    assert lab.writes()[0].method == "PUT"  # attempted writes are recorded too
