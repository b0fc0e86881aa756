"""Entra ID: real azure-identity credentials against the lab's token endpoint."""

from __future__ import annotations

import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError

from tests.lab.sdk import aadsts, credential, send, token


def test_secret_credential_gets_a_token_with_the_callers_claims(lab):
    lab = lab()
    access = token(credential(lab), lab.urls["arm"])
    claims = jwt.decode(access, options={"verify_signature": False})
    world = lab.world
    assert claims["appid"] == lab.env["AZURE_CLIENT_ID"]
    assert claims["oid"] == world.diagnoser_id
    assert claims["tid"] == world.tenant_id
    assert claims["aud"] == lab.urls["arm"]
    assert claims["exp"] > claims["iat"]
    assert "roles" not in claims  # Graph app roles only in Graph tokens


def test_graph_token_carries_the_app_roles(lab):
    lab = lab()
    claims = jwt.decode(
        token(credential(lab), "https://graph.microsoft.com"), options={"verify_signature": False}
    )
    assert claims["aud"] == "https://graph.microsoft.com"
    assert set(claims["roles"]) == {
        "Application.Read.All",
        "Application.ReadWrite.All",
        "AuditLog.Read.All",  # granted by the lab's history (diagnose/lab/history.py)
    }


def test_certificate_credential_gets_a_token(lab):
    from azure.identity import CertificateCredential

    lab = lab()
    env = lab.env
    cred = CertificateCredential(
        env["AZURE_TENANT_ID"],
        env["AZURE_CLIENT_ID"],
        certificate_path=lab.client_certificate_path,
        authority=env["AZURE_AUTHORITY_HOST"],
        disable_instance_discovery=True,
        connection_verify=lab.ca_bundle,
    )
    claims = jwt.decode(token(cred, lab.urls["vault"]), options={"verify_signature": False})
    assert claims["appid"] == env["AZURE_CLIENT_ID"]


def test_token_signature_verifies_against_the_published_jwks(lab):
    lab = lab()
    access = token(credential(lab), lab.urls["graph"])
    tenant = lab.env["AZURE_TENANT_ID"]
    discovery = send(
        lab, "GET", f"{lab.urls['entra']}/{tenant}/v2.0/.well-known/openid-configuration"
    ).json()
    assert discovery["issuer"] == f"{lab.urls['entra']}/{tenant}/v2.0"
    client = jwt.PyJWKClient(
        discovery["jwks_uri"],
        ssl_context=__import__("ssl").create_default_context(cafile=lab.ca_bundle),
    )
    key = client.get_signing_key_from_jwt(access)
    claims = jwt.decode(access, key.key, algorithms=["RS256"], audience=lab.urls["graph"])
    assert claims["iss"] == discovery["issuer"]


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda lab: {"secret": "wrong-secret"}, 7000215),
        (lambda lab: {"client_id": "00000000-1111-2222-3333-444444444444"}, 700016),
        (
            lambda lab: {"client_id": lab.env["DIAGNOSE_PRINCIPAL_APP_ID"]},
            700016,
        ),  # a managed identity has no secret
    ],
)
def test_refusals_carry_the_aadsts_code(lab, edit, code):
    lab = lab()
    with pytest.raises(ClientAuthenticationError) as info:
        token(credential(lab, **edit(lab)), lab.urls["arm"])
    assert aadsts(info.value) == code


def test_disabled_application_is_refused_with_7000112(lab):
    lab = lab()
    lab.world.diagnoser.enabled = False
    with pytest.raises(ClientAuthenticationError) as info:
        token(credential(lab), lab.urls["arm"])
    assert aadsts(info.value) == 7000112
    assert "is disabled" in str(info.value)


def test_diagnoser_secret_expired_scenario(lab):
    lab = lab("diagnoser-secret-expired")
    with pytest.raises(ClientAuthenticationError) as info:
        token(credential(lab), lab.urls["arm"])
    assert aadsts(info.value) == 7000222


def test_unknown_tenant_is_90002(lab):
    from azure.identity import ClientSecretCredential

    lab = lab()
    env = lab.env
    other = "11111111-2222-3333-4444-555555555555"
    discovery = send(
        lab, "GET", f"{env['AZURE_AUTHORITY_HOST']}/{other}/v2.0/.well-known/openid-configuration"
    )
    assert discovery.status_code == 400
    assert discovery.json()["error_codes"] == [90002]
    form = {
        "grant_type": "client_credentials",
        "client_id": env["AZURE_CLIENT_ID"],
        "client_secret": env["AZURE_CLIENT_SECRET"],
        "scope": "https://vault.azure.net/.default",
    }
    direct = send(
        lab, "POST", f"{env['AZURE_AUTHORITY_HOST']}/{other}/oauth2/v2.0/token", data=form
    )
    assert direct.json()["error"] == "invalid_tenant"
    # MSAL, as against the real Entra ID, reports the failed discovery rather than the code.
    cred = ClientSecretCredential(
        other,
        env["AZURE_CLIENT_ID"],
        env["AZURE_CLIENT_SECRET"],
        authority=env["AZURE_AUTHORITY_HOST"],
        disable_instance_discovery=True,
        connection_verify=lab.ca_bundle,
    )
    with pytest.raises(ClientAuthenticationError, match="authority configuration"):
        token(cred, lab.urls["arm"])


def test_unknown_resource_is_500011(lab):
    lab = lab()
    with pytest.raises(ClientAuthenticationError) as info:
        token(credential(lab), "https://unknown.example.com")
    assert aadsts(info.value) == 500011


def test_error_body_has_the_real_shape(lab):
    lab = lab()
    env = lab.env
    resp = send(
        lab,
        "POST",
        f"{env['AZURE_AUTHORITY_HOST']}/{env['AZURE_TENANT_ID']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": env["AZURE_CLIENT_ID"],
            "client_secret": "nope",
            "scope": "https://vault.azure.net/.default",
        },
    )
    assert resp.status_code == 401
    body = resp.json()
    assert body["error"] == "invalid_client"
    assert body["error_codes"] == [7000215]
    assert body["error_description"].startswith("AADSTS7000215: ")
    assert {"trace_id", "correlation_id", "timestamp", "error_uri"} <= set(body)
    assert "nope" not in resp.text


def test_v1_endpoint_takes_a_resource(lab):
    lab = lab()
    env = lab.env
    form = {
        "grant_type": "client_credentials",
        "client_id": env["AZURE_CLIENT_ID"],
        "client_secret": env["AZURE_CLIENT_SECRET"],
        "resource": "https://vault.azure.net",
    }
    resp = send(
        lab,
        "POST",
        f"{env['AZURE_AUTHORITY_HOST']}/{env['AZURE_TENANT_ID']}/oauth2/token",
        data=form,
    )
    assert resp.status_code == 200
    assert (
        jwt.decode(resp.json()["access_token"], options={"verify_signature": False})["aud"]
        == "https://vault.azure.net"
    )
