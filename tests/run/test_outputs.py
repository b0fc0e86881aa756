"""Report formats, --out, colour, secrets and writes, against one lab per test."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.harness import CliResult, run_cli

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def diagnose(env: dict[str, str], *args: str, timeout: float = 180) -> CliResult:
    return run_cli(*args, env=env, timeout=timeout)


def secrets_of(lab_env: dict[str, str]) -> list[str]:
    values = [lab_env["AZURE_CLIENT_SECRET"], lab_env["DIAGNOSE_ADOBE_CLIENT_SECRET"]]
    assert all(len(v) >= 12 for v in values)
    return values


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "markdown"])
def test_no_secret_or_token_in_any_format_or_out_file(lab, tmp_path: Path, fmt: str) -> None:
    running = lab("sp-disabled")
    out = tmp_path / f"report.{fmt}"
    proc = diagnose(running.env, "run", "--trigger", "--output", fmt, "--out", str(out))
    assert proc.exit_code == 1, proc.stderr
    written = out.read_text()
    for text in (proc.stdout, proc.stderr, written):
        for secret in secrets_of(running.env):
            assert secret not in text
        assert not JWT.search(text), JWT.search(text)
    assert "principal.disabled" in written and "cosmosdb-auth-errors" in written


def test_json_stdout_is_only_the_report_and_matches_the_schema(lab) -> None:
    running = lab("key-disabled")
    proc = diagnose(running.env, "run", "--output", "json")
    report = proc.json()  # nothing else on stdout
    assert set(report) >= {
        "schema",
        "version",
        "catalogue",
        "status",
        "profile",
        "started_at",
        "duration_ms",
        "checks",
        "diagnosis",
    }
    assert report["status"] == "fail"
    assert "AZURE_CLIENT_SECRET" not in json.dumps(report["profile"])
    for check in report["checks"]:
        assert set(check) >= {"id", "title", "status", "summary", "duration_ms", "findings"}
        for f in check["findings"]:
            assert set(f) >= {"code", "severity", "message", "evidence", "runbook"}
            assert set(f["runbook"]) == {"id", "step"}
    for entry in report["diagnosis"]:
        assert set(entry) >= {"code", "title", "runbook", "remediation", "checks"}
        assert entry["remediation"] and entry["checks"]
    assert report["diagnosis"][0]["code"] == "key.disabled"


def test_junit_has_one_testcase_per_check(lab) -> None:
    running = lab("kv-role-missing")
    proc = diagnose(running.env, "run", "--output", "junit")
    suite = ET.fromstring(proc.stdout)
    cases = suite.findall("testcase")
    assert len(cases) == 13 and int(suite.get("tests")) == 13
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert "roles.keyvault" in failed
    skipped = {c.get("name") for c in cases if c.find("skipped") is not None}
    assert {"adobe.byok", "campaign.trigger"} <= skipped
    text = next(c for c in cases if c.get("name") == "roles.keyvault").find("failure").text
    assert "[keyvault.role-missing]" in text
    assert "Runbook cosmosdb-auth-errors, step 2: " in text and "evidence: {" in text


def test_markdown_and_text_name_the_step_and_what_to_do(lab) -> None:
    running = lab("sp-disabled")
    md = diagnose(running.env, "run", "--output", "markdown").stdout
    assert md.startswith("## diagnose run: FAIL")
    assert "runbook `cosmosdb-auth-errors`, step 1, Verify the service principal" in md
    assert "| ❌ | `principal.enabled` |" in md
    text = diagnose(running.env, "run").stdout
    assert "Runbook cosmosdb-auth-errors, step 1: Verify the service principal" in text
    assert "-> Re-enable the service principal" in text
    assert "\x1b[" not in text  # not a terminal: no colour


def test_fail_on_warn_turns_a_warning_into_exit_1(lab) -> None:
    running = lab("healthy")
    # a profile that names another app than the account's default identity: a warning only
    env = dict(running.env, DIAGNOSE_PRINCIPAL_APP_ID=running.env["DIAGNOSE_COSMOS_CALLER_APP_ID"])
    proc = diagnose(env, "run", "--only", "cosmos.cmk", "--output", "json")
    report = proc.json()
    (check,) = report["checks"]
    assert check["status"] == "warn" and check["findings"][0]["code"] == "cosmos.identity-mismatch"
    assert report["status"] == "warn" and proc.exit_code == 0
    assert (
        diagnose(
            env, "run", "--only", "cosmos.cmk", "--output", "json", "--fail-on", "warn"
        ).exit_code
        == 1
    )


def test_without_trigger_the_lab_records_no_write_and_with_it_exactly_one(lab) -> None:
    running = lab("sp-disabled")
    diagnose(running.env, "run", "--output", "json")
    assert running.requests, "the run made no request at all"
    assert running.writes() == []
    diagnose(running.env, "run", "--output", "json", "--trigger")
    writes = running.writes()
    assert len(writes) == 1 and writes[0].method == "POST" and "/im/executions/" in writes[0].path


def test_unreachable_endpoint_is_exit_3_not_a_finding(lab) -> None:
    running = lab("healthy")
    env = dict(
        running.env,
        DIAGNOSE_COSMOS_ENDPOINT="https://127.0.0.1:9/",
        DIAGNOSE_COSMOS_SCOPE="https://cosmos.azure.com/.default",
    )
    proc = diagnose(env, "run", "--only", "cosmos.dataplane", "--output", "json")
    report = proc.json()
    data = next(c for c in report["checks"] if c["id"] == "cosmos.dataplane")
    assert data["status"] == "error" and not data["findings"]
    assert proc.exit_code == 3


def test_timeout_budget_is_exit_3(lab) -> None:
    running = lab("trigger-timeout")
    proc = diagnose(running.env, "run", "--trigger", "--timeout", "4", "--output", "json")
    report = proc.json()
    trigger = next(c for c in report["checks"] if c["id"] == "campaign.trigger")
    assert trigger["status"] == "error" and "--timeout budget" in trigger["summary"]
    assert proc.exit_code == 3
    assert len([w for w in running.writes() if "/im/executions/" in w.path]) == 1


def test_a_missing_right_is_said_the_same_way_in_text_and_markdown(tmp_path: Path) -> None:
    """The "Could not decide" line names the right the diagnosing identity lacks (one wording,
    `render.cause.needs`), escaped for a Markdown cell in Markdown."""
    from datetime import UTC, datetime

    from diagnose.model import CheckResult, Limitation, Status
    from diagnose.profile import load
    from diagnose.render import run_markdown, run_text
    from diagnose.usecases.run import make_report

    right = "Reader | on the vault"
    result = CheckResult(
        "keyvault.vault",
        "vault",
        Status.ERROR,
        "ARM refused the read",
        limitation=Limitation("ARM answered 403 AuthorizationFailed", right),
    )
    report = make_report(load({}, cwd=tmp_path), [result], datetime.now(UTC), 10)
    assert [u.permission for u in report.undecided] == [right]
    text = run_text.render(report)
    assert (
        "keyvault.vault: ARM answered 403 AuthorizationFailed. Needs: Reader | on the vault."
        in text
    )
    markdown = run_markdown.render(report)
    assert (
        "- `keyvault.vault`: ARM answered 403 AuthorizationFailed. Needs: Reader \\| on the vault."
        in markdown
    )
