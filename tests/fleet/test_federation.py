"""Secretless sign-in: the lab's Entra ID accepts a federated client assertion from the lab's OIDC
issuer, checked as Entra does, through the SDK's WorkloadIdentityCredential and the real CLI."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import WorkloadIdentityCredential
from cryptography.hazmat.primitives.asymmetric import rsa

from diagnose.lab import Lab, oidc
from tests.harness import Cli, run_cli


def token_file(tmp_path: Path, token: str) -> Path:
    path = tmp_path / "federated-token.jwt"
    path.write_text(token)
    return path


def credential(lab: Lab, path: Path) -> WorkloadIdentityCredential:
    return WorkloadIdentityCredential(
        tenant_id=lab.env["AZURE_TENANT_ID"],
        client_id=lab.env["AZURE_CLIENT_ID"],
        token_file_path=str(path),
        authority=lab.urls["entra"],
        disable_instance_discovery=True,
        connection_verify=lab.ca_bundle,
    )


def secretless(env: dict[str, str], path: Path) -> dict[str, str]:
    """The lab's profile without the client secret, with the CI system's token file instead, and
    azure-identity's chain narrowed to the workload identity credential (AZURE_TOKEN_CREDENTIALS),
    as docs/ci/ does."""
    kept = {k: v for k, v in env.items() if k != "AZURE_CLIENT_SECRET"}
    return {
        **kept,
        "AZURE_FEDERATED_TOKEN_FILE": str(path),
        "AZURE_TOKEN_CREDENTIALS": "WorkloadIdentityCredential",
        "DIAGNOSE_LAB_PROPAGATION_S": "0.05",
    }


def test_the_issuer_publishes_its_keys_and_the_sdk_signs_in(
    lab: Callable[..., Lab], tmp_path: Path
) -> None:
    import requests

    started = lab("healthy")
    issuer = oidc.lab_issuer(started.urls["entra"])
    discovery = requests.get(
        f"{issuer.url}/.well-known/openid-configuration", verify=started.ca_bundle, timeout=10
    ).json()
    assert discovery["issuer"] == issuer.url
    keys = requests.get(discovery["jwks_uri"], verify=started.ca_bundle, timeout=10).json()
    assert [k["kid"] for k in keys["keys"]] == [issuer.kid]
    token = credential(started, token_file(tmp_path, issuer.token())).get_token(
        started.urls["arm"] + "/.default"
    )
    assert token.token.count(".") == 2 and token.expires_on > time.time()


FORGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    "forge, code",
    [
        (
            lambda i: i.token(key=FORGER),
            "AADSTS700027",
        ),  # signed with a key the issuer never published
        (lambda i: i.token(issued_at=time.time() - 3600), "AADSTS700024"),  # expired
        (lambda i: i.token(issued_at=time.time() + 600), "AADSTS700024"),  # not yet valid
        (
            lambda i: i.token(subject=oidc.SUBJECT.upper()),
            "AADSTS700213",
        ),  # subjects are case-sensitive
        (lambda i: i.token(audience="api://AzureADTokenExchange2"), "AADSTS700212"),
        (lambda i: i.token(issuer="https://token.actions.githubusercontent.com"), "AADSTS700211"),
    ],
)
def test_a_forged_or_expired_assertion_is_refused_with_entras_code(
    lab: Callable[..., Lab], tmp_path: Path, forge: Callable[[oidc.Issuer], str], code: str
) -> None:
    started = lab("healthy")
    issuer = oidc.lab_issuer(started.urls["entra"])
    with pytest.raises(ClientAuthenticationError, match=code):
        credential(started, token_file(tmp_path, forge(issuer))).get_token(
            started.urls["arm"] + "/.default"
        )


def test_a_fleet_run_signs_in_without_a_secret(
    lab_environ: Callable[..., Lab], cli: Cli, tmp_path: Path
) -> None:
    started = lab_environ("fleet")
    issuer = oidc.lab_issuer(started.urls["entra"])
    env = secretless(started.env, token_file(tmp_path, issuer.token()))
    before = len(started.requests)
    result = run_cli("run", "--all", "-o", "json", env=env)
    assert result.exit_code == 1, result.stderr
    assert result.json("diagnose/fleet@1")["summary"]["failing"] == 3
    signed_in = [
        r for r in started.requests[before:] if r.service == "entra" and r.method == "POST"
    ]
    assert signed_in and all(r.status == 200 for r in signed_in)
    assert {r.caller_app_id for r in signed_in} == {started.env["AZURE_CLIENT_ID"]}


def test_a_run_with_an_expired_token_file_says_so_and_exits_3(
    lab_environ: Callable[..., Lab], tmp_path: Path
) -> None:
    started = lab_environ("healthy")
    issuer = oidc.lab_issuer(started.urls["entra"])
    env = secretless(started.env, token_file(tmp_path, issuer.token(issued_at=time.time() - 3600)))
    result = run_cli("run", "--only", "keyvault.vault", env=env)
    assert result.exit_code == 3, result
    assert "AADSTS700024" in result.output and "Traceback" not in result.output
