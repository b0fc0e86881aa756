"""Key Vault data plane through azure-keyvault-keys and plain HTTPS: challenge, key, wrap/unwrap, 403s."""

from __future__ import annotations

import base64
import os
import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.lab.sdk import caller_credential, credential, get, key_client, send, token


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _key_operation(lab, url: str, bearer: str, alg: str, value: str):
    """A wrapkey/unwrapkey POST to Key Vault with its JSON body."""
    return send(lab, "POST", url, bearer, json={"alg": alg, "value": value})


def test_challenge_on_a_request_without_token(lab):
    lab = lab()
    resp = send(lab, "POST", f"{lab.env['DIAGNOSE_KEY_ID']}/v1/unwrapkey?api-version=7.6", data=b"")
    assert resp.status_code == 401
    challenge = resp.headers["WWW-Authenticate"]
    assert f'authorization="{lab.urls["entra"]}/{lab.env["AZURE_TENANT_ID"]}"' in challenge
    assert 'resource="https://vault.azure.net"' in challenge
    assert resp.json()["error"]["code"] == "Unauthorized"


def test_sdk_reads_a_real_rsa_3072_key_and_unwraps_remotely(lab):
    from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm

    lab = lab()
    cred = credential(lab)
    key = key_client(lab, cred).get_key("cmk")
    assert key.properties.enabled is True
    assert len(key.key.n) * 8 == 3072
    crypto = CryptographyClient(
        key, cred, verify_challenge_resource=False, connection_verify=lab.ca_bundle
    )
    secret = os.urandom(32)
    wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, secret)  # local, with the public key
    assert crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key == secret
    unwraps = [r for r in lab.requests if r.path.endswith("/unwrapkey")]
    assert [r.status for r in unwraps] == [200]


def test_forced_remote_wrap_round_trip(lab):
    lab = lab()
    bearer = token(credential(lab), "https://vault.azure.net")
    version = lab.world.key.version
    secret = os.urandom(32)
    wrapped = _key_operation(
        lab,
        f"{lab.env['DIAGNOSE_KEY_ID']}/{version}/wrapkey?api-version=7.6",
        bearer,
        "RSA-OAEP",
        _b64u(secret),
    )
    assert wrapped.status_code == 200
    assert wrapped.json()["kid"] == f"{lab.env['DIAGNOSE_KEY_ID']}/{version}"
    # the lab really used the key: its private half decrypts what the service wrapped
    raw = base64.urlsafe_b64decode(wrapped.json()["value"] + "==")
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    assert lab.world.key.private_key.decrypt(raw, oaep) == secret
    unwrapped = _key_operation(
        lab,
        f"{lab.env['DIAGNOSE_KEY_ID']}/{version}/unwrapkey?api-version=7.6",
        bearer,
        "RSA-OAEP",
        wrapped.json()["value"],
    )
    assert base64.urlsafe_b64decode(unwrapped.json()["value"] + "==") == secret


def _error(exc: HttpResponseError) -> tuple[int, str, str | None]:
    inner = (exc.error.innererror or {}).get("code") if exc.error else None
    return exc.status_code, exc.error.code if exc.error else "", inner


def test_rbac_denial_for_a_caller_without_a_role(lab):
    lab = lab()
    with pytest.raises(HttpResponseError) as info:
        key_client(lab, caller_credential(lab)).get_key("cmk")
    assert _error(info.value) == (403, "Forbidden", "ForbiddenByRbac")
    assert "Caller is not authorized to perform action on resource." in str(info.value)


def test_access_policy_denial(lab):
    lab = lab("kv-access-policy-missing")
    with pytest.raises(HttpResponseError) as info:
        key_client(lab, caller_credential(lab)).get_key("cmk")
    assert _error(info.value) == (403, "Forbidden", "AccessDenied")
    assert "does not have keys get permission on key vault 'kv-ajo-cmk" in str(info.value)
    # the diagnosing identity has its own policy and still reads the key
    assert key_client(lab, credential(lab)).get_key("cmk").name == "cmk"


def test_firewall_denial(lab):
    lab = lab("kv-firewall")
    with pytest.raises(HttpResponseError) as info:
        key_client(lab, credential(lab)).get_key("cmk")
    assert _error(info.value) == (403, "Forbidden", "ForbiddenByFirewall")
    # kv-firewall's bypass is None: Key Vault's words for it (troubleshoot-cmk 1.1)
    assert (
        "Client address is not authorized and caller was ignored because bypass is set to None"
        in str(info.value)
    )


def test_firewall_letting_trusted_services_through_still_refuses_this_caller(lab):
    """bypass AzureServices: Cosmos DB passes, the tool (not a trusted service) is refused in
    Key Vault's other words (https://github.com/microsoft/azure-container-apps/issues/888)."""
    lab = lab()
    lab.world.vault.default_action, lab.world.vault.bypass = "Deny", "AzureServices"
    with pytest.raises(HttpResponseError) as info:
        key_client(lab, credential(lab)).get_key("cmk")
    assert _error(info.value) == (403, "Forbidden", "ForbiddenByFirewall")
    assert "Client address is not authorized and caller is not a trusted service." in str(
        info.value
    )


def test_disabled_key(lab):
    lab = lab("key-disabled")
    with pytest.raises(HttpResponseError) as info:
        key_client(lab, credential(lab)).get_key("cmk")
    assert _error(info.value) == (403, "Forbidden", "KeyDisabled")


def test_missing_key(lab):
    lab = lab("key-not-found")
    with pytest.raises(ResourceNotFoundError) as info:
        key_client(lab, credential(lab)).get_key("cmk")
    assert _error(info.value)[:2] == (404, "KeyNotFound")


@pytest.mark.parametrize(
    ("scenario_edit", "inner"),
    [("exp", "KeyExpired"), ("nbf", "KeyNotYetValid")],
)
def test_key_outside_its_window_unwraps_but_refuses_a_remote_wrap(lab, scenario_edit, inner):
    """Key Vault's key attributes: outside nbf/exp, unwrap still works and wrapKey is refused (403)."""
    from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm

    lab = lab()
    now = time.time()
    setattr(
        lab.world.key, scenario_edit, now - 2 * 86400 if scenario_edit == "exp" else now + 86400
    )
    cred = credential(lab)
    key = key_client(lab, cred).get_key("cmk")  # the key still reads
    secret = os.urandom(32)
    local = CryptographyClient.from_jwk(key.key)  # the public key only: no time check, no network
    wrapped = local.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, secret).encrypted_key
    bearer = token(cred, "https://vault.azure.net")
    unwrapped = _key_operation(
        lab, f"{key.id}/unwrapkey?api-version=7.6", bearer, "RSA-OAEP-256", _b64u(wrapped)
    )
    assert unwrapped.status_code == 200, unwrapped.text
    assert base64.urlsafe_b64decode(unwrapped.json()["value"] + "==") == secret
    refused = _key_operation(
        lab, f"{key.id}/wrapkey?api-version=7.6", bearer, "RSA-OAEP-256", _b64u(secret)
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "Forbidden"
    assert refused.json()["error"]["innererror"]["code"] == inner


def test_unwrap_is_refused_on_a_disabled_key_and_a_key_without_the_operation(lab):
    lab = lab()
    bearer = token(credential(lab), "https://vault.azure.net")
    url = f"{lab.env['DIAGNOSE_KEY_ID']}/unwrapkey?api-version=7.6"
    body = {"alg": "RSA-OAEP-256", "value": _b64u(b"x" * 384)}
    lab.world.key.ops = ["wrapKey"]
    resp = send(lab, "POST", url, bearer, json=body)
    assert (resp.status_code, resp.json()["error"]["innererror"]["code"]) == (
        403,
        "KeyOperationForbidden",
    )
    lab.world.key.enabled = False
    resp = send(lab, "POST", url, bearer, json=body)
    assert (resp.status_code, resp.json()["error"]["innererror"]["code"]) == (403, "KeyDisabled")


def test_bad_bodies_get_key_vault_errors(lab):
    lab = lab()
    bearer = token(credential(lab), "https://vault.azure.net")
    url = f"{lab.env['DIAGNOSE_KEY_ID']}/{lab.world.key.version}/unwrapkey?api-version=7.6"
    for body, code in [
        (b"{oops", "BadRequest"),
        (b'{"alg": "ROT13", "value": "AA"}', "BadParameter"),
        (b'{"alg": "RSA-OAEP", "value": "AAAA"}', "BadParameter"),
    ]:
        resp = send(
            lab, "POST", url, bearer, data=body, headers={"Content-Type": "application/json"}
        )
        assert resp.status_code == 400
        assert resp.json()["error"]["code"] == code
        assert "Traceback" not in resp.text


def test_arm_token_is_refused_by_the_vault(lab):
    lab = lab()
    arm_token = token(credential(lab), "https://management.azure.com")
    resp = get(lab, f"{lab.env['DIAGNOSE_KEY_ID']}?api-version=7.6", arm_token)
    assert resp.status_code == 401
    assert "Invalid audience" in resp.json()["error"]["message"]
