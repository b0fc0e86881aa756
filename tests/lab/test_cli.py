"""`diagnose lab scenarios` and `diagnose lab serve`, driven as a user would, plus the env file."""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from diagnose.lab import SCENARIOS
from tests.harness import clean_environ, run_cli, start_cli

SCRIPT = Path(__file__).parent / "scripts" / "customer_check.py"
ENV_LINE = re.compile(r"^export ([A-Z_]+)='([^']*)'$")


def _serve(tmp_path: Path, scenario: str, *extra: str) -> tuple[subprocess.Popen, Path, Path]:
    env_file, profile_file = tmp_path / "lab.env", tmp_path / "diagnose.toml"
    proc = start_cli(
        "lab",
        "serve",
        "--scenario",
        scenario,
        "--env-out",
        env_file,
        "--profile-out",
        profile_file,
        *extra,
        env={"DIAGNOSE_LAB_PROPAGATION_S": "0.05"},
    )
    deadline = time.time() + 20
    while not env_file.exists():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"lab serve did not write its env file: {proc.communicate()}")
        time.sleep(0.05)
    return proc, env_file, profile_file


def _stop(proc: subprocess.Popen, signum: int = signal.SIGTERM) -> tuple[int, str, str]:
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=10)
    return proc.returncode, out, err


def test_scenarios_lists_every_scenario_with_a_description():
    result = run_cli("lab", "scenarios")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(SCENARIOS)
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def test_unknown_scenario_is_exit_2_with_a_message():
    result = run_cli("lab", "serve", "--scenario", "nope", timeout=30)
    assert result.exit_code == 2
    assert "unknown lab scenario 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("target", ["missing-folder/lab.env", "."])
def test_unwritable_env_file_is_exit_2_with_a_message(tmp_path, target):
    path = tmp_path / target
    result = run_cli("lab", "serve", "--env-out", str(path), timeout=30)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --env-out")
    assert "Traceback" not in result.stderr


def test_negative_latency_is_a_usage_error():
    result = run_cli("lab", "serve", "--latency-ms", "-5", timeout=30)
    assert result.exit_code == 2


@pytest.mark.timeout(120)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_writes_env_and_profile_and_exits_0(tmp_path, signum):
    proc, env_file, profile_file = _serve(tmp_path, "sp-disabled")
    try:
        lines = env_file.read_text().splitlines()
        assert all(ENV_LINE.match(line) for line in lines), lines
        env = dict(ENV_LINE.match(line).groups() for line in lines)
        assert env["DIAGNOSE_CLOUD"] == "custom"
        assert env["REQUESTS_CA_BUNDLE"] == env["DIAGNOSE_CA_BUNDLE"]
        bundle = Path(env["DIAGNOSE_CA_BUNDLE"]).read_text()
        assert bundle.count("BEGIN CERTIFICATE") > 100  # public roots plus the lab's CA
        assert oct(env_file.stat().st_mode & 0o777) == "0o600"
        profile = tomllib.loads(profile_file.read_text())["profile"]["default"]
        assert profile["tenant_id"] == env["AZURE_TENANT_ID"]
        assert profile["cosmos_endpoint"] == env["DIAGNOSE_COSMOS_ENDPOINT"]
        assert env["AZURE_CLIENT_SECRET"] not in profile_file.read_text()
    finally:
        code, out, err = _stop(proc, signum)
    assert code == 0
    assert not env_file.exists() and not profile_file.exists()  # they named a CA bundle now gone
    assert "source " + str(env_file) in err
    assert "Traceback" not in err
    assert env["AZURE_CLIENT_SECRET"] not in err + out


def _run_customer_script(env_file: Path) -> dict:
    command = f". {shlex.quote(str(env_file))} && exec {shlex.quote(sys.executable)} {shlex.quote(str(SCRIPT))}"
    result = subprocess.run(
        ["sh", "-c", command],
        capture_output=True,
        text=True,
        env=clean_environ(),
        cwd="/",
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.timeout(120)
def test_a_customer_script_sees_the_healthy_world_from_the_env_file_alone(tmp_path):
    proc, env_file, _ = _serve(tmp_path, "healthy")
    try:
        seen = _run_customer_script(env_file)
    finally:
        assert _stop(proc)[0] == 0
    assert seen == {
        "accountEnabled": True,
        "principal_roles": 1,
        "purge_protection": True,
        "cmk_code": None,
        "unwrap_ok": True,
        "cosmos": ["ajo"],
        "trigger": 202,
    }


@pytest.mark.timeout(120)
def test_a_customer_script_sees_the_incident_in_sp_disabled(tmp_path):
    proc, env_file, _ = _serve(tmp_path, "sp-disabled")
    try:
        seen = _run_customer_script(env_file)
    finally:
        assert _stop(proc)[0] == 0
    assert seen["accountEnabled"] is False
    assert seen["cmk_code"] == 4000
    assert seen["cosmos"] == {"status": 403, "sub_status": 4000}
    assert seen["trigger"] == 500
    assert seen["unwrap_ok"] is True  # the diagnosing identity still reaches the key


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_lab_numbers_are_refused(value: str) -> None:
    """click's ranges let nan and inf through; the lab's own numbers refuse them (exit 2)."""
    served = run_cli("lab", "serve", "--latency-ms", value, timeout=30)
    assert served.exit_code == 2 and "not a finite number" in served.stderr
    ran = run_cli("run", "--lab", "healthy", env={"DIAGNOSE_LAB_PROPAGATION_S": value}, timeout=60)
    assert ran.exit_code == 2 and "DIAGNOSE_LAB_PROPAGATION_S" in ran.stderr
    assert "Traceback" not in served.stderr + ran.stderr
