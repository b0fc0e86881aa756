"""The fixes `diagnose run` prints are commands that run: pasted into the Azure CLI, they heal the lab.

For each scenario with a fix, `diagnose run --output json` against the lab's profile names the
scenario's root cause first; the `az` lines of its remediation hold the values the run read (no
placeholder), run as they are (`shlex.split`, as a shell would) with the Azure CLI registered as a
custom cloud and signed in as the lab's admin identity (the on-call engineer's own login: the
diagnosing identity is a reader), and a second `diagnose run` finds nothing. Propagation delay 0.

Runs when `az` is on PATH (or DIAGNOSE_TEST_AZ names the executable); skips otherwise.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from diagnose import catalogue, remediation
from diagnose.lab import Lab
from diagnose.lab.scenarios import SCENARIO_OBJECTS
from tests.harness import run_cli
from tests.lab.azcli import AZ, AzureCli, needs_az

pytestmark = [needs_az, pytest.mark.timeout(600)]

# scenario -> the service and method of the write its fix makes (what the lab records)
FIXES: dict[str, tuple[str, str]] = {
    "sp-disabled": ("graph", "PATCH"),
    "sp-deleted": ("graph", "POST"),
    "kv-role-missing": ("arm", "PUT"),
    "kv-access-policy-missing": ("arm", "PUT"),
    "cosmos-dataplane-role-missing": ("arm", "PUT"),
    "key-disabled": ("vault", "PATCH"),
    "key-not-found": ("vault", "POST"),
    "kv-firewall": ("arm", "PUT"),
    "cosmos-identity-undefined": ("arm", "PATCH"),
    "purge-protection-off": ("arm", "PUT"),
    "key-expired": ("vault", "PATCH"),
    "adobe-app-disabled": ("graph", "PATCH"),
}
# scenarios whose root cause prints a command that this list does not paste, and why
NOT_PASTED = {
    "uami-deleted": "healed by a test of its own below (a command substitution, run by bash)",
    "cmk-status-uncoded": "its command reads the account's status: a status with no code names no fix",
}


def _diagnose(lab: Lab, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("run", "--output", "json", *args, env=lab.env)
    return result.exit_code, result.json("diagnose/report@1")


def _admin(lab: Lab, config_dir) -> AzureCli:  # noqa: ANN001 - a pytest tmp_path
    assert lab.world is not None
    admin = lab.world.admin
    return AzureCli(lab, config_dir).login(admin.app_id, admin.secrets[0].value)


def _root_fix(lab: Lab, scenario: str) -> list[str]:
    """The root cause's commands, as `diagnose run --output json` prints them."""
    _, report = _diagnose(lab)
    root = report["diagnosis"][0]
    assert root["code"] == SCENARIO_OBJECTS[scenario].root_cause
    commands = remediation.commands(root["remediation"])
    assert commands, f"{root['code']} prints no command: {root['remediation']}"
    return commands


def _paste(az: AzureCli, commands: list[str]) -> None:
    for command in commands:
        assert "<" not in command, f"a value the run did not read: {command}"
        words = shlex.split(command)
        assert words[0] == "az" and "--vault-name" not in words, command
        az(*words[1:])


@pytest.mark.parametrize("scenario", [s for s in FIXES if s != "kv-firewall"])
def test_the_printed_fix_heals_the_world(lab, tmp_path, scenario: str) -> None:
    instance = lab(scenario, propagation_s=0)
    commands = _root_fix(instance, scenario)
    az = _admin(instance, tmp_path / "azure")
    before = len(instance.writes())
    _paste(az, commands)
    writes = [(w.service, w.method, w.status) for w in instance.writes()[before:]]
    service, method = FIXES[scenario]
    assert any(s == service and m == method and st and st < 300 for s, m, st in writes), writes
    exit_code, report = _diagnose(instance)
    assert (exit_code, report["diagnosis"]) == (0, []), report["checks"]


def test_the_printed_firewall_fix_heals_the_world(lab, tmp_path) -> None:
    """Letting trusted services through heals Cosmos DB; the tool's own data-plane round trip still
    meets the firewall (it runs from an address the vault does not list): the second run finds
    nothing and says it could not decide that one check, and passes without it."""
    instance = lab("kv-firewall", propagation_s=0)
    commands = _root_fix(instance, "kv-firewall")
    _paste(_admin(instance, tmp_path / "azure"), commands)
    exit_code, report = _diagnose(instance)
    assert report["diagnosis"] == []
    undecided = {
        c["id"]: c["limitation"]["reason"] for c in report["checks"] if c["status"] == "error"
    }
    assert (
        list(undecided) == ["keyvault.unwrap"]
        and "ForbiddenByFirewall" in undecided["keyvault.unwrap"]
    )
    assert exit_code == 3
    exit_code, report = _diagnose(instance, "--skip", "keyvault.unwrap")
    assert (exit_code, report["diagnosis"]) == (0, [])


def test_the_fix_pasted_from_the_text_output_runs(lab, tmp_path) -> None:
    """The terminal shows each command alone on its line: copied as a line, it runs."""
    instance = lab("kv-role-missing", propagation_s=0)
    text = run_cli("run", env=instance.env)
    assert text.exit_code == 1
    lines = [line.strip() for line in text.stdout.splitlines()]
    commands = [line for line in lines if line.startswith("az ")]
    assert commands and commands[0].startswith("az role assignment create ")
    _paste(_admin(instance, tmp_path / "azure"), commands[:1])
    assert run_cli("run", env=instance.env).exit_code == 0


def test_the_diagnosing_identity_cannot_run_the_fixes(lab, tmp_path) -> None:
    """The reader the tool runs as is refused the write: the fix needs the engineer's own rights."""
    instance = lab("kv-role-missing", propagation_s=0)
    commands = _root_fix(instance, "kv-role-missing")
    env = instance.env
    az = AzureCli(instance, tmp_path / "azure").login(
        env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"]
    )
    refused = az(*shlex.split(commands[0])[1:], check=False)
    assert refused.returncode != 0 and "AuthorizationFailed" in refused.stderr
    assert _diagnose(instance)[0] == 1


def test_the_printed_fix_for_a_deleted_managed_identity_heals_the_world(lab, tmp_path) -> None:
    """uami-deleted: the identity is gone for good, so the fix is never "restore": it creates the
    identity again, gives it to the account, grants it the key (its new principal id read by a
    command substitution, as pasted into bash) and makes it the default identity. The second run
    reads the principal from the account's default identity (the profile's principal_app_id named
    the deleted identity: the remediation says to update it or leave it out)."""
    instance = lab("uami-deleted", propagation_s=0)
    commands = _root_fix(instance, "uami-deleted")
    assert not any("restore" in c for c in commands), commands
    assert [shlex.split(c.split("$(")[0])[1:3] for c in commands] == [
        ["identity", "create"],
        ["cosmosdb", "identity"],
        ["role", "assignment"],
        ["cosmosdb", "update"],
    ]
    az = _admin(instance, tmp_path / "azure")
    before = len(instance.writes())
    env = {**az.env, "PATH": f"{Path(str(AZ)).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for command in commands:
        assert "<" not in command, f"a value the run did not read: {command}"
        done = subprocess.run(
            ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (command, done.stderr[-2000:])
    writes = [(w.service, w.method, w.status) for w in instance.writes()[before:]]
    assert [(s, m) for s, m, st in writes if st and st < 300] == [
        ("arm", "PUT"),  # the identity
        ("arm", "PATCH"),  # the account's identities
        ("arm", "PUT"),  # the role assignment
        ("arm", "PATCH"),  # the default identity
    ], writes
    env = {k: v for k, v in instance.env.items() if k != "DIAGNOSE_PRINCIPAL_APP_ID"}
    result = run_cli("run", "--output", "json", env=env)
    report = result.json("diagnose/report@1")
    assert (result.exit_code, report["diagnosis"]) == (0, []), report["checks"]


def test_every_scenario_whose_root_cause_prints_a_command_is_healed_here() -> None:
    """No scenario's printed fix goes untried: a root cause whose remediation holds an `az`
    command is in FIXES, or NOT_PASTED says why not."""
    cat = catalogue.default()
    printed = {
        name
        for name, scenario in SCENARIO_OBJECTS.items()
        if scenario.root_cause and remediation.commands(cat.cause(scenario.root_cause).remediation)
    }
    assert printed - set(FIXES) - set(NOT_PASTED) == set()
