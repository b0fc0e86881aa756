"""`diagnose lab serve --env-out` exposes the admin identity, so a person can run the printed fixes.

The env file holds the diagnosing identity (AZURE_CLIENT_ID/SECRET, a reader) and, under its own
names, the admin identity (DIAGNOSE_LAB_ADMIN_CLIENT_ID/SECRET, docs/lab.md "The world"). Driven
as a person would: serve, read the file, run `diagnose run`, sign in as the admin and apply the
printed fix, run again. The admin's secret reaches no output of diagnose.
"""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from diagnose import remediation
from diagnose.cli.lab import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, ADMIN_LOGIN
from tests.harness import clean_environ, run_cli, start_cli
from tests.lab.azcli import AZ, needs_az, seed_version_check

ENV_LINE = re.compile(r"^export ([A-Z_]+)='([^']*)'$")
pytestmark = pytest.mark.timeout(300)


def _serve(tmp_path: Path, scenario: str) -> tuple[subprocess.Popen[str], Path]:
    env_file = tmp_path / "lab.env"
    proc = start_cli(
        "lab",
        "serve",
        "--scenario",
        scenario,
        "--env-out",
        env_file,
        env={"DIAGNOSE_LAB_PROPAGATION_S": "0"},
    )
    deadline = time.time() + 30
    while not env_file.exists():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"lab serve did not write its env file: {proc.communicate()}")
        time.sleep(0.05)
    return proc, env_file


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    return err


def _env(env_file: Path) -> dict[str, str]:
    lines = env_file.read_text().splitlines()
    assert all(ENV_LINE.match(line) for line in lines), lines
    return dict(m.groups() for line in lines if (m := ENV_LINE.match(line)))


def _run(env: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    result = run_cli("run", "--output", "json", env=env)
    return result.exit_code, result.json("diagnose/report@1"), result.output


def _fix(report: dict[str, Any]) -> list[str]:
    root = report["diagnosis"][0]
    assert root["code"] == "keyvault.role-missing", report["diagnosis"]
    commands = remediation.commands(root["remediation"])
    assert commands and all("<" not in c for c in commands), root["remediation"]
    return commands


def _arm_put_role_assignment(env: dict[str, str], client: str, secret: str, fix: str) -> int:
    """The printed `az role assignment create` as the REST call it makes, with `client`'s token."""
    words = shlex.split(fix)
    option = {words[i]: words[i + 1] for i in range(len(words) - 1) if words[i].startswith("--")}
    token = requests.post(
        f"{env['AZURE_AUTHORITY_HOST']}/{env['AZURE_TENANT_ID']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client,
            "client_secret": secret,
            "scope": f"{env['DIAGNOSE_ARM_URL']}/.default",
        },
        verify=env["DIAGNOSE_CA_BUNDLE"],
        timeout=20,
    ).json()["access_token"]
    scope = option["--scope"]
    role = "e147488a-f6f5-4113-8e2d-b22465e65bf6"  # Key Vault Crypto Service Encryption User
    assert option["--role"] == "Key Vault Crypto Service Encryption User", fix
    name = "5d6c7b7e-1f7e-4a51-9a53-3c5b0c7c1a11"
    response = requests.put(
        f"{env['DIAGNOSE_ARM_URL']}{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        params={"api-version": "2022-04-01"},
        json={
            "properties": {
                "roleDefinitionId": f"/subscriptions/{env['DIAGNOSE_SUBSCRIPTION_ID']}"
                f"/providers/Microsoft.Authorization/roleDefinitions/{role}",
                "principalId": option["--assignee-object-id"],
                "principalType": option["--assignee-principal-type"],
            }
        },
        headers={"Authorization": f"Bearer {token}"},
        verify=env["DIAGNOSE_CA_BUNDLE"],
        timeout=20,
    )
    return response.status_code


def test_env_file_holds_the_admin_identity_apart_and_its_secret_reaches_no_output(tmp_path):
    proc, env_file = _serve(tmp_path, "kv-role-missing")
    try:
        env = _env(env_file)
        admin_id, admin_secret = env[ADMIN_CLIENT_ID], env[ADMIN_CLIENT_SECRET]
        assert admin_id != env["AZURE_CLIENT_ID"] and admin_secret != env["AZURE_CLIENT_SECRET"]
        code, report, output = _run(env)
        assert code == 1
        (fix,) = _fix(report)
        # the diagnosing identity, a reader, may not apply the fix; the admin identity may
        assert (
            _arm_put_role_assignment(env, env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"], fix)
            == 403
        )
        assert _arm_put_role_assignment(env, admin_id, admin_secret, fix) == 201
        healed_code, healed, healed_output = _run(env)
        assert healed_code == 0 and healed["diagnosis"] == [], healed["diagnosis"]
    finally:
        banner = _stop(proc)
    for text in (output, healed_output, banner):
        assert admin_secret not in text
    assert ADMIN_LOGIN in banner  # how to sign in, by the variables' names only
    assert not env_file.exists()


@needs_az
def test_the_printed_fix_runs_in_a_shell_signed_in_from_the_env_file(tmp_path):
    """As docs/lab.md tells a person: source the file, sign in as the admin, paste the fix."""
    proc, env_file = _serve(tmp_path, "kv-role-missing")
    try:
        env = _env(env_file)
        code, report, _ = _run(env)
        assert code == 1
        fixes = _fix(report)
        config = tmp_path / "az"
        seed_version_check(config)
        az = shlex.quote(str(AZ))
        script = "\n".join(
            [
                "set -e",
                f". {shlex.quote(str(env_file))}",
                f"export AZURE_CONFIG_DIR={shlex.quote(str(config))}",
                "export AZURE_CORE_INSTANCE_DISCOVERY=false AZURE_CORE_COLLECT_TELEMETRY=false",
                f'{az} cloud register -n DiagnoseLab --endpoint-resource-manager "$DIAGNOSE_ARM_URL/" >/dev/null',
                f"{az} cloud set -n DiagnoseLab",
                ADMIN_LOGIN.replace("az ", f"{az} ", 1) + " >/dev/null",
                *(f"{az} {c[len('az ') :]} >/dev/null" for c in fixes),
            ]
        )
        shell = subprocess.run(
            ["sh", "-c", script],
            capture_output=True,
            text=True,
            env=clean_environ(),
            timeout=240,
        )
        assert shell.returncode == 0, shell.stderr[-2000:]
        healed_code, healed, _ = _run(env)
        assert healed_code == 0 and healed["diagnosis"] == [], healed["diagnosis"]
    finally:
        _stop(proc)
