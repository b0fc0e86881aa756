"""Quiet libraries, `--debug` and `-v`: across every lab scenario.

No line from a library's logger (the Cosmos SDK's "Marking https://… unavailable for
Read", urllib3's retries, azure-core's notes) nor a Python warning reaches stderr; with
`--debug`, stderr holds the HTTP trace (method, URL, status, time, request ids) and
never a secret or a token of the run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from diagnose.lab import Lab
from diagnose.lab.scenarios import SCENARIO_OBJECTS
from tests.harness import CliResult, clean_environ, run_cli

# What a library's log line or a Python warning looks like on stderr: the "last resort" handler
# prints the bare message; logging.basicConfig's format is LEVEL:logger:message; warnings name
# their category.
SDK_LINE = re.compile(
    r"^(?:Marking https?://|(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]+:|.*\b\w+Warning: |"
    r"Request URL: |Response status: |Starting new HTTPS? connection|Retrying \(Retry\()",
    re.M,
)


def assert_no_sdk_log(stderr: str) -> None:
    """Fail when `stderr` holds a line a library's logger or Python's warnings wrote."""
    found = SDK_LINE.findall(stderr)
    assert not found, f"a library's log line reached stderr: {found[:3]}\n{stderr[-2000:]}"


def trigger_args(args: tuple[str, ...]) -> tuple[str, ...]:
    """The scenario's run arguments, with a short deadline for the call that hangs."""
    out = list(args)
    if "--trigger-deadline" in out:
        out[out.index("--trigger-deadline") + 1] = "3"
    return tuple(out)


def run_scenario(name: str) -> dict[str, Any]:
    scenario = SCENARIO_OBJECTS[name]
    with Lab(name, propagation_s=0.05) as lab:
        env = dict(lab.env)
        args = ("run", "--output", "json", *trigger_args(scenario.run_args))
        plain = run_cli(*args, env=env)
        debug = run_cli(*args, "--debug", env=env)
        verbose = run_cli(*args, "-v", env=env)
    secrets = [v for k, v in env.items() if k.endswith(("_SECRET", "_PASSWORD")) and v]
    return {"plain": plain, "debug": debug, "verbose": verbose, "secrets": secrets}


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(SCENARIO_OBJECTS, pool.map(run_scenario, SCENARIO_OBJECTS), strict=True))


@pytest.mark.parametrize("scenario", sorted(SCENARIO_OBJECTS))
def test_no_library_log_line_reaches_stderr(scenario: str, runs) -> None:
    plain: CliResult = runs[scenario]["plain"]
    assert plain.exit_code == SCENARIO_OBJECTS[scenario].exit_status, plain
    assert_no_sdk_log(plain.stderr)
    assert plain.stderr == "", plain.stderr  # JSON on stdout, nothing else at all
    assert_no_sdk_log(runs[scenario]["verbose"].stderr)


@pytest.mark.parametrize("scenario", sorted(SCENARIO_OBJECTS))
def test_debug_traces_http_and_never_a_secret_or_token(scenario: str, runs) -> None:
    debug: CliResult = runs[scenario]["debug"]
    assert debug.exit_code == SCENARIO_OBJECTS[scenario].exit_status, debug
    debug.json("diagnose/report@1")  # stdout is still only the report
    trace = [line for line in debug.stderr.splitlines() if line.startswith("http: ")]
    assert trace, debug.stderr[-2000:]
    assert all(
        re.match(r"http: [A-Z]+ https://\S+ -> (\d{3} in|\w+ after) \d+ ms", t) for t in trace
    )
    assert any("/oauth2/v2.0/token -> " in t for t in trace)  # the token requests are traced
    assert runs[scenario]["secrets"], "the lab gave no secret to look for"
    for secret in runs[scenario]["secrets"]:
        assert secret not in debug.output
    lowered = debug.stderr.lower()
    assert "bearer " not in lowered and "authorization:" not in lowered  # the header
    assert "eyj" not in lowered  # no JWT (a token's base64 header starts eyJ)
    assert "client_secret" not in lowered and "access_token" not in lowered


def test_the_cosmos_sdk_request_ids_are_in_the_trace(runs) -> None:
    trace = runs["healthy"]["debug"].stderr
    assert re.search(r"http: GET https://\S+/dbs -> 200 in \d+ ms \(x-ms-activity-id=", trace)


def test_verbose_says_what_the_run_derived(lab) -> None:
    running = lab("healthy")
    env = {
        k: v for k, v in running.env.items() if k not in ("DIAGNOSE_KEY_ID", "DIAGNOSE_KEYVAULT_ID")
    }
    result = run_cli("run", "-o", "json", "-v", env=env)
    assert result.exit_code == 0, result
    assert "derive: key_id = https://" in result.stderr
    assert "derived from the Cosmos DB account's keyVaultKeyUri" in result.stderr
    assert_no_sdk_log(result.stderr)


def test_a_library_warning_is_dropped_unless_debug() -> None:
    """The handler itself: a library's warning and a Python warning never reach stderr; with
    --debug they do, redacted."""
    code = (
        "import logging, sys, warnings\n"
        "from diagnose import logs\n"
        "logs.setup(debug=sys.argv[1] == 'debug')\n"
        "logging.getLogger('azure.cosmos._global_endpoint_manager').warning("
        "'Marking https://acct.documents.azure.com/ unavailable for Read')\n"
        "logging.getLogger('urllib3.connectionpool').warning('Retrying (Retry(total=1)) token=abcdef123456789')\n"
        "warnings.warn('InsecureRequestWarning: Unverified HTTPS request')\n"
        "logging.getLogger('diagnose.derive').info('own note')\n"
    )
    quiet = subprocess.run(
        [sys.executable, "-c", code, "quiet"], capture_output=True, text=True, env=clean_environ()
    )
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    loud = subprocess.run(
        [sys.executable, "-c", code, "debug"], capture_output=True, text=True, env=clean_environ()
    )
    assert "warning [azure.cosmos._global_endpoint_manager]: Marking https://" in loud.stderr
    assert "abcdef123456789" not in loud.stderr and "token=***" in loud.stderr
    assert "derive: own note" in loud.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("run", "--lab", "healthy", "-o", "json"),
        ("checks", "-o", "json"),
        ("runbook", "list"),
        ("runbook", "show", "call-timeout"),
        ("profile", "show", "--lab", "healthy"),
        ("lab", "scenarios"),
        ("explain", "-"),
        ("payload", "check", "-", "--offline"),
    ],
)
@pytest.mark.parametrize("flag", ["--debug", "-v", "--verbose"])
def test_every_command_takes_debug_and_verbose_after_its_name(
    args: tuple[str, ...], flag: str
) -> None:
    result = run_cli(
        *args, flag, stdin="nothing to see\n", env={"DIAGNOSE_LAB_PROPAGATION_S": "0.05"}
    )
    assert result.exit_code in (0, 1, 2), result  # payload check: "no cURL command here" is 2
    assert "No such option" not in result.stderr and "Usage:" not in result.stderr, result
