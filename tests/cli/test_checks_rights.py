"""`diagnose checks`: the rights that read apart from the rights that prove, and both true of Azure.

The Key Vault data actions the rights name are held to the built-in role definitions the lab
carries (diagnose/lab/roles.py, copied from Microsoft's built-in roles reference): what a check
reads with, Key Vault Reader allows; what proves (unwrap), it does not, and Key Vault Crypto
Service Encryption User does.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from diagnose.lab.derived import covers
from diagnose.lab.roles import KV_CRYPTO_SERVICE_ENCRYPTION_USER, KV_READER, ROLE_DEFINITIONS
from tests.harness import run_cli

DATA_ACTION = re.compile(r"Microsoft\.KeyVault/vaults/keys/[a-z]+(?:/action)?")
ROLES = {d.guid: d for d in ROLE_DEFINITIONS}


@pytest.fixture(scope="module")
def listing() -> dict[str, Any]:
    result = run_cli("checks", "-o", "json")
    assert result.exit_code == 0, result
    return result.json("diagnose/checks@1")


def _checks(listing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in listing["checks"]}


def test_each_check_gives_its_read_and_prove_rights_and_permissions_is_both(listing):
    for check in listing["checks"]:
        rights = check["rights"]
        assert rights["read"], check["id"]  # every check says what it reads with
        assert check["permissions"] == rights["read"] + rights["prove"], check["id"]
    checks = _checks(listing)
    provers = {cid for cid, c in checks.items() if c["rights"]["prove"]}
    assert provers == {"keyvault.unwrap", "campaign.trigger"}
    assert checks["campaign.trigger"]["rights"]["prove"] == [
        "Adobe Journey Optimizer campaign execution"
    ]


def test_the_read_list_is_read_only_and_the_prove_list_holds_the_rest(listing):
    read, prove = listing["rights"]["read"], listing["rights"]["prove"]
    assert listing["least_privilege"] == read
    assert not set(read) & set(prove)
    for right in read:
        assert "unwrap" not in right.lower() and "execution" not in right.lower(), right
    assert any("keys/unwrap/action" in p for p in prove)
    assert "Adobe Journey Optimizer campaign execution" in prove


def _data_actions(rights: list[str]) -> list[str]:
    return [a for right in rights for a in DATA_ACTION.findall(right)]


def _allows(role: str, action: str) -> bool:
    definition = ROLES[role]
    return covers(definition.data_actions, definition.not_data_actions, action)


def test_key_vault_rights_hold_for_the_built_in_roles_they_name(listing):
    unwrap = _checks(listing)["keyvault.unwrap"]["rights"]
    reads, proves = _data_actions(unwrap["read"]), _data_actions(unwrap["prove"])
    assert reads == ["Microsoft.KeyVault/vaults/keys/read"]
    assert proves == ["Microsoft.KeyVault/vaults/keys/unwrap/action"]
    assert "Key Vault Reader" in unwrap["read"][0]
    assert "Key Vault Crypto Service Encryption User" in unwrap["prove"][0]
    assert all(_allows(KV_READER, a) for a in reads)
    assert not any(_allows(KV_READER, a) for a in proves)  # a reader cannot prove
    assert all(_allows(KV_CRYPTO_SERVICE_ENCRYPTION_USER, a) for a in reads + proves)
    for right in listing["rights"]["read"]:  # nothing read needs more than Key Vault Reader
        assert all(_allows(KV_READER, a) for a in DATA_ACTION.findall(right)), right


def test_text_listing_separates_reading_from_proving():
    result = run_cli("checks")
    assert result.exit_code == 0, result
    text = result.stdout
    unwrap = text[text.index("keyvault.unwrap") : text.index("adobe.byok")]
    assert "rights to read: Key Vault Reader" in unwrap
    assert "rights to prove: Key Vault Crypto Service Encryption User" in unwrap
    principal = text[text.index("principal.enabled") : text.index("roles.keyvault")]
    assert "rights to read:" in principal and "rights to prove" not in principal
    read_part = text[text.index("Rights to read") : text.index("Rights that prove")]
    prove_part = text[text.index("Rights that prove") :]
    assert "campaign execution" not in read_part and "unwrap/action" not in read_part
    assert "campaign execution" in prove_part and "unwrap/action" in prove_part
