"""Issue 12 defects 4 and 6, pinned against their published sources.

- defect 4: Key Vault keeps unwrapping outside a key's nbf/exp window and refuses wrapKey
  (https://learn.microsoft.com/azure/key-vault/keys/about-keys-details#key-attributes), so
  `keyvault.unwrap` wraps locally with the public key and unwraps remotely; `key-expired` is
  read from the key's attributes (step 3) and Cosmos DB says 4018 KeyDisabledOrExpired
  (azure-cosmos-dotnet-v3 msdata/direct StatusCodes.cs).
- defect 6: the data plane's 403 body is the one published sentence, the reason only in
  `x-ms-substatus`; codes beyond 4017 get their own causes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from diagnose import catalogue
from diagnose.lab.scenarios import SCENARIO_OBJECTS
from tests.harness import run_cli

LAB_ENV = {"DIAGNOSE_LAB_PROPAGATION_S": "0.05"}
CMK_BLOCKED = "Request is blocked due to Customer Managed Key not being accessible."


def checks_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report["checks"]}


def test_key_expired_is_read_from_the_key_and_cosmos_says_4018() -> None:
    result = run_cli("run", "--lab", "key-expired", "--output", "json", env=LAB_ENV)
    report = result.json()
    assert result.exit_code == 1 == SCENARIO_OBJECTS["key-expired"].exit_status, result.stderr
    root = report["diagnosis"][0]
    assert (root["code"], root["runbook"]["step"]) == ("key.expired", 3)
    checks = checks_of(report)
    (expired,) = checks["keyvault.key"]["findings"]
    assert expired["code"] == "key.expired" and expired["evidence"]["exp"]  # from the attributes
    assert checks["keyvault.unwrap"]["status"] == "skip"
    assert [f["code"] for f in checks["cosmos.cmk"]["findings"]] == ["cosmos.revoked.4018"]
    (plane,) = checks["cosmos.dataplane"]["findings"]
    assert plane["code"] == "cosmos.revoked.4018"
    assert plane["evidence"]["sub_status"] == 4018
    assert plane["evidence"]["message"] == CMK_BLOCKED  # nothing appended to the published body
    assert [e["code"] for e in report["diagnosis"]] == ["key.expired", "cosmos.revoked.4018"]


def test_the_round_trip_wraps_locally_and_unwraps_in_the_vault(lab_environ, cli) -> None:
    lab = lab_environ("healthy")
    result = cli("run", "--output", "json")
    assert result.exit_code == 0, result.stderr
    unwrap = checks_of(result.json())["keyvault.unwrap"]
    assert unwrap["status"] == "pass", unwrap
    assert (
        unwrap["evidence"]["wrap"].startswith("local")
        and "RSA-OAEP-256" in unwrap["evidence"]["wrap"]
    )
    vault = [
        (r.method, r.path.rsplit("/", 1)[-1], r.status)
        for r in lab.requests
        if r.service == "vault"
    ]
    assert not [r for r in vault if r[1] == "wrapkey"], vault  # no remote wrap
    assert [r for r in vault if r[1] == "unwrapkey"] == [("POST", "unwrapkey", 200)], vault


@pytest.mark.parametrize("attribute", ["exp", "nbf"])
def test_the_proof_holds_for_a_key_outside_its_window(lab, attribute: str) -> None:
    """What Key Vault allows outside nbf/exp (unwrap) is what the probe uses; a remote wrap is refused."""
    import time

    from diagnose.azure.credential import build
    from diagnose.azure.keyvault import KeyRef, KeyVaultProbe, KeyVaultRefusal, local_wrap
    from diagnose.profile import load

    lab = lab()
    setattr(lab.world.key, attribute, time.time() + (86400 if attribute == "nbf" else -86400))
    profile = load(lab.env, cwd=Path("/nonexistent"))
    probe = KeyVaultProbe(profile, build(profile), KeyRef.parse(lab.env["DIAGNOSE_KEY_ID"]))
    key = probe.get_key()
    secret = os.urandom(32)
    assert probe.unwrap(key.version, local_wrap(key, secret)) == secret
    with pytest.raises(KeyVaultRefusal) as refused:  # the remote wrap the check no longer makes
        probe._crypto(key.version, "wrapkey", secret)
    assert refused.value.status == 403


def test_a_key_answer_without_a_public_key_is_the_tools_limitation() -> None:
    from diagnose.answers import MalformedAnswer
    from diagnose.azure.keyvault import DataPlaneKey, local_wrap

    kid = "https://kv.vault.azure.net/keys/cmk/0123456789abcdef0123456789abcdef"
    with pytest.raises(MalformedAnswer, match="no public key.*n, e"):
        local_wrap(DataPlaneKey(kid, "0123", "RSA", ("wrapKey",)), b"x" * 32)
    with pytest.raises(MalformedAnswer, match="cannot wrap"):
        local_wrap(DataPlaneKey(kid, "0123", "RSA", ("wrapKey",), "AQAB", "!!"), b"x" * 32)


REVOKED = (
    "Access to your account is currently revoked because the Azure Key Vault key is disabled or "
    "expired; for more details about this error and how to restore access to your account please "
    "visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide ({code})."
)


@pytest.mark.parametrize(
    ("code", "cause", "severity", "exit_status"),
    [
        (4018, "cosmos.revoked.4018", "fail", 1),
        (4019, "cosmos.revoked.4019", "warn", 0),  # Cosmos DB's own service: nothing blamed
        (4020, "cosmos.revoked.other", "fail", 1),
    ],
)
def test_codes_beyond_4017_have_their_own_causes(
    lab_environ, cli, code: int, cause: str, severity: str, exit_status: int
) -> None:
    lab = lab_environ("healthy")
    lab.world.cosmos.status_text = REVOKED.format(code=code)  # the data plane answers 403/code
    result = cli("run", "--output", "json")
    assert result.exit_code == exit_status, result.stderr
    report = result.json()
    checks = checks_of(report)
    for check in ("cosmos.cmk", "cosmos.dataplane"):
        (f,) = checks[check]["findings"]
        assert (f["code"], f["severity"]) == (cause, severity), f
    (plane,) = checks["cosmos.dataplane"]["findings"]
    assert (plane["evidence"]["sub_status"], plane["evidence"]["message"]) == (code, CMK_BLOCKED)
    entry = catalogue.default().cause(cause)
    assert report["diagnosis"][0]["code"] == cause
    assert (report["diagnosis"][0]["runbook"]["step"], entry.severity) == (entry.ref.step, severity)


def test_every_published_code_has_a_catalogue_entry_with_its_step() -> None:
    """4000-4019 from the SDK's SubStatusCodes: each its own cause, with a step and a remediation."""
    from diagnose.checks.cosmos import KNOWN_REVOKED

    cat = catalogue.default()
    assert list(KNOWN_REVOKED) == list(range(4000, 4020))
    steps = {n: cat.cause(f"cosmos.revoked.{n}").ref.step for n in KNOWN_REVOKED}
    assert (steps[4018], steps[4019]) == (3, 4)
    assert cat.cause("cosmos.revoked.4019").severity == "warn"
    assert all(cat.cause(f"cosmos.revoked.{n}").remediation for n in KNOWN_REVOKED)
