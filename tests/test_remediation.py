"""Remediation templates: every field a run can fill, placeholders that say why, quoting that holds.

The end-to-end proof (the commands heal the lab) is tests/lab/test_az_fixes.py; here the filling
itself, on check results built as the runner builds them.
"""

from __future__ import annotations

import shlex
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from diagnose import catalogue, remediation
from diagnose.catalogue import CatalogueError
from diagnose.model import (
    CheckResult,
    DiagnosisEntry,
    Finding,
    Limitation,
    Severity,
    Status,
    StepRef,
)
from diagnose.profile import load

VAULT = "/subscriptions/s-1/resourceGroups/rg-1/providers/Microsoft.KeyVault/vaults/kv-1"
ACCOUNT = (
    "/subscriptions/s-2/resourceGroups/rg-2/providers/Microsoft.DocumentDB/databaseAccounts/db-1"
)
NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def _profile(**values: str):
    env = {
        "DIAGNOSE_KEYVAULT_ID": VAULT,
        "DIAGNOSE_KEY_ID": "https://kv-1.vault.azure.net/keys/cmk",
        "DIAGNOSE_COSMOS_ID": ACCOUNT,
        **values,
    }
    return load(env, cwd=Path("/nonexistent"))


def _run(*results: CheckResult, **profile: str) -> remediation.RunValues:
    return remediation.RunValues({r.id: r for r in results}, _profile(**profile), NOW)


def _principal(**evidence: object) -> CheckResult:
    return CheckResult("principal.enabled", "t", Status.PASS, "ok", evidence=evidence)


def test_every_shipped_line_renders_without_a_run_and_names_only_known_fields() -> None:
    for cause in catalogue.default().causes.values():
        for template, shown in zip(cause.templates, cause.remediation, strict=True):
            assert not remediation.unknown_fields(template)
            assert "{" not in shown or "{ACCESS_TOKEN}" in shown, shown  # every field placeholder'd


def test_commands_use_forms_that_work_in_every_cloud() -> None:
    for cause in catalogue.default().causes.values():
        for line in remediation.commands(cause.templates):
            assert "--vault-name" not in line and "--hsm-name" not in line, (cause.code, line)
            shlex.split(line)  # one line a shell reads


def test_values_the_run_read_fill_the_command() -> None:
    run = _run(_principal(object_id="0000-aaaa", display_name="id-cmk"))
    line = (
        "az role assignment create --assignee-object-id {principal_object_id} "
        '--assignee-principal-type ServicePrincipal --role "Key Vault Crypto Service Encryption User" '
        "--scope {vault_id}"
    )
    filled = remediation.render(line, run)
    assert filled == (
        "az role assignment create --assignee-object-id 0000-aaaa --assignee-principal-type "
        'ServicePrincipal --role "Key Vault Crypto Service Encryption User" --scope ' + VAULT
    )
    assert (
        remediation.render("Portal: Key vault {vault_name} > IAM", run)
        == "Portal: Key vault kv-1 > IAM"
    )


def test_arm_names_come_from_the_profile_ids() -> None:
    run = _run()
    line = "az keyvault update --name {vault_name} --resource-group {vault_group} --subscription {vault_subscription}"
    assert remediation.render(line, run) == (
        "az keyvault update --name kv-1 --resource-group rg-1 --subscription s-1"
    )
    assert (
        remediation.render("{cosmos_name} {cosmos_group} {cosmos_subscription}", run)
        == "db-1 rg-2 s-2"
    )
    assert (
        remediation.render("{deleted_key_id}", run)
        == "https://kv-1.vault.azure.net/deletedkeys/cmk"
    )


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (None, "principal.enabled did not run"),
        (
            CheckResult("principal.enabled", "t", Status.SKIP, "needs roles.x, which was skipped"),
            "principal.enabled was skipped: needs roles.x, which was skipped",
        ),
        (
            CheckResult(
                "principal.enabled",
                "t",
                Status.ERROR,
                "refused",
                limitation=Limitation("Microsoft Graph refused (Authorization_RequestDenied)"),
            ),
            "principal.enabled could not decide: Microsoft Graph refused (Authorization_RequestDenied)",
        ),
        (_principal(display_name="x"), "principal.enabled did not record it"),
    ],
)
def test_a_value_not_read_is_a_placeholder_that_says_why(result, reason: str) -> None:
    run = _run(*([result] if result else []))
    filled = remediation.render("az ad sp update --id {principal_object_id} --set a=b", run)
    assert filled == (
        f"az ad sp update --id <object id of the principal that reaches the key: not read ({reason})> "
        "--set a=b"
    )
    # pasted, bash refuses the line as a whole (its syntax), before running anything
    check = subprocess.run(["bash", "-n", "-c", filled], capture_output=True, text=True)
    assert check.returncode != 0 and "syntax error" in check.stderr


def test_a_profile_value_missing_is_named() -> None:
    run = remediation.RunValues({}, _profile(DIAGNOSE_COSMOS_ID=""), NOW)
    assert remediation.render("az cosmosdb show --ids {cosmos_id}", run) == (
        "az cosmosdb show --ids <ARM id of the Cosmos DB account: not read (the profile has no cosmos_id)>"
    )


def test_hostile_values_are_quoted_in_commands_and_refused_with_control_characters() -> None:
    run = _run(_principal(object_id="x; rm -rf ~", display_name="a$(id)b"))
    filled = remediation.render("az ad sp update --id {principal_object_id}", run)
    assert shlex.split(filled) == ["az", "ad", "sp", "update", "--id", "x; rm -rf ~"]
    assert remediation.render("Portal: {principal_name}", run) == "Portal: a$(id)b"  # prose: as is
    bad = _run(_principal(object_id="abc\n--set x=y"))
    assert "not read (what was read is empty or holds control characters)" in remediation.render(
        "az ad sp show --id {principal_object_id}", bad
    )


def test_key_fields() -> None:
    key = CheckResult(
        "keyvault.key", "t", Status.FAIL, "s", evidence={"keyOps": ["encrypt", "wrapKey"]}
    )
    run = _run(key)
    assert remediation.render("az x --ops {key_ops}", run) == "az x --ops encrypt wrapKey unwrapKey"
    assert (
        remediation.render("{expires_next_year} {now}", run)
        == "2031-01-02T03:04:05Z 2030-01-02T03:04:05Z"
    )


def test_fill_gives_each_entry_its_filled_lines_and_leaves_the_catalogue_alone() -> None:
    finding = Finding("principal.disabled", "disabled", Severity.FAIL, {"object_id": "oid-1"})
    result = CheckResult(
        "principal.enabled",
        "t",
        Status.FAIL,
        "disabled",
        findings=[finding],
        evidence={"display_name": "id-cmk", "object_id": "oid-1"},
    )
    cause = catalogue.default().cause("principal.disabled")
    entry = DiagnosisEntry(
        "principal.disabled",
        cause.title,
        Severity.FAIL,
        StepRef("cosmosdb-auth-errors", 1),
        list(cause.remediation),
        ["principal.enabled"],
    )
    remediation.fill([entry], [result], _profile(), NOW)
    assert "az ad sp update --id oid-1 --set accountEnabled=true" in entry.remediation
    assert any(line.startswith("Portal: ") and "id-cmk" in line for line in entry.remediation)
    assert "<" in " ".join(catalogue.default().cause("principal.disabled").remediation)


def test_display_lines_put_commands_alone_on_their_line() -> None:
    lines = remediation.display_lines(["Do it:", "az x --id 1", "Portal: A > B"])
    assert lines == ["    -> Do it:", "       az x --id 1", "       Portal: A > B"]


def test_the_catalogue_refuses_an_unknown_field(tmp_path) -> None:
    (tmp_path / "extra.md").write_text(
        "---\nid: extra\ntitle: t\nsteps:\n  - step: 1\n    title: s\ncauses:\n"
        "  - code: x.y\n    step: 1\n    title: t\n    remediation:\n      - 'az do --id {no_such_field}'\n"
        "---\n\n## Step 1\n\ntext\n"
    )
    with pytest.raises(CatalogueError, match=r"unknown field\(s\) \{no_such_field\}"):
        catalogue.load(extra=[tmp_path])
