"""Key Vault data-plane answers, in every scenario, walked against azure-keyvault-keys' generated
models (`azure.keyvault.keys._generated.models`): the key, wrap and unwrap results, and errors."""

from __future__ import annotations

import base64
import os

import pytest
from azure.keyvault.keys._generated import models as kv
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from diagnose.lab.scenarios import SCENARIOS
from tests.conformance.answers import arm_token
from tests.conformance.models import check_typespec
from tests.lab.sdk import credential, get, send, token

API = "7.6"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _local_wrap(jwk: dict[str, str], plaintext: bytes) -> bytes:
    """RSA-OAEP-256 with the key's public part, as the SDK wraps locally."""

    def num(field: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(jwk[field] + "=" * (-len(jwk[field]) % 4)))

    public = rsa.RSAPublicNumbers(num("e"), num("n")).public_key()
    return public.encrypt(
        plaintext,
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )


def _check(reply, model: type, where: str) -> list[str]:
    body = reply.json() if reply.content else None
    if body is None:
        return [f"{where}: HTTP {reply.status_code} without a body"]
    chosen = model if reply.status_code < 400 else kv.KeyVaultError
    return [f"{where} (HTTP {reply.status_code}): {p}" for p in check_typespec(body, chosen)]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_data_plane_answers_follow_the_models(lab, scenario: str) -> None:
    instance = lab(scenario)
    arm_token(instance)  # renews the diagnoser's secret where the scenario expired it
    bearer = token(credential(instance), "https://vault.azure.net")
    key_url = instance.env["DIAGNOSE_KEY_ID"].rstrip("/")
    found = _check(get(instance, f"{key_url}/?api-version={API}"), kv.KeyVaultError, "challenge")
    key = get(instance, f"{key_url}/?api-version={API}", bearer)
    found += _check(key, kv.KeyBundle, "GET key")
    plaintext = os.urandom(32)
    version_url = key.json()["key"]["kid"] if key.status_code == 200 else key_url

    def operation(op: str, value: bytes) -> list[str]:
        body = {"alg": "RSA-OAEP-256", "value": _b64(value)}
        reply = send(instance, "POST", f"{version_url}/{op}?api-version={API}", bearer, json=body)
        return _check(reply, kv.KeyOperationResult, op)

    found += operation("wrapkey", plaintext)
    wrapped = _local_wrap(key.json()["key"], plaintext) if key.status_code == 200 else plaintext
    found += operation("unwrapkey", wrapped)
    assert not found, "\n".join(found)


def test_the_walk_finds_an_unknown_field_in_a_key_bundle() -> None:
    body = {"key": {"kid": "https://v/keys/k/1", "kty": "RSA", "x-extra": 1}, "attributes": {}}
    assert any("$.key.x-extra" in p for p in check_typespec(body, kv.KeyBundle))
    assert any("$.key.kty" in p for p in check_typespec({"key": {"kty": "NOPE"}}, kv.KeyBundle))
