"""The gate for one account's run (issue 16): --baseline, --write-baseline and --horizon without
--all, against the lab, through the real CLI; every JSON report validated (diagnose/report@1)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.harness import CliResult, run_cli


def diagnose(env: dict[str, str], *args: str) -> CliResult:
    return run_cli("run", *args, env=env, timeout=180)


def test_write_baseline_then_baseline_accepts_the_findings_and_a_new_one_still_fails(
    lab, tmp_path: Path
) -> None:
    running = lab("kv-role-missing")
    path = tmp_path / "baseline.json"
    written = diagnose(running.env, "--write-baseline", str(path), "-o", "json")
    assert written.exit_code == 0, written.stderr
    doc = written.json("diagnose/report@1")
    entries = json.loads(path.read_text())
    codes = sorted(e["code"] for e in entries)
    assert "keyvault.role-missing" in codes
    assert {e["resource"] for e in entries} == {running.world.cosmos.id}
    assert doc["baseline"]["written"] is True and doc["diagnosis"] == []
    assert sorted(a["code"] for a in doc["baseline"]["accepted"]) == codes

    again = diagnose(running.env, "--baseline", str(path), "-o", "json")
    assert again.exit_code == 0, again.stdout[-2000:]
    assert again.json("diagnose/report@1")["status"] == "pass"
    junit = ET.fromstring(diagnose(running.env, "--baseline", str(path), "-o", "junit").stdout)
    assert junit.get("failures") == "0", ET.tostring(junit)[:2000]  # the CI tab agrees with exit 0
    roles = next(c for c in junit.iter("testcase") if c.get("name") == "roles.keyvault")
    skipped = roles.find("skipped")
    assert skipped is not None and "keyvault.role-missing" in (skipped.get("message") or "")
    assert junit.get("skipped") == str(len(junit.findall("testcase/skipped")))

    # an acceptance that expired fails again, and is said so
    for e in entries:
        e["expires"] = "2020-01-01"
    path.write_text(json.dumps(entries))
    expired = diagnose(running.env, "--baseline", str(path), "-o", "json")
    assert expired.exit_code == 1
    edoc = expired.json("diagnose/report@1")
    assert sorted(a["code"] for a in edoc["baseline"]["expired"]) == codes
    assert edoc["diagnosis"][0]["code"] in codes
    text = diagnose(running.env, "--baseline", str(path))
    assert "expired on 2020-01-01: keyvault.role-missing fails again" in text.stdout

    # another account's acceptance is not this one's
    path.write_text(json.dumps([{**entries[0], "resource": "/subscriptions/x", "expires": None}]))
    assert diagnose(running.env, "--baseline", str(path)).exit_code == 1


def test_a_bad_baseline_or_horizon_is_exit_2_before_anything_runs(lab, tmp_path: Path) -> None:
    running = lab("healthy")
    bad = tmp_path / "bad.json"
    bad.write_text('[{"code": "x"}]')
    result = diagnose(running.env, "--baseline", str(bad))
    assert result.exit_code == 2 and "entry 0" in result.stderr
    assert diagnose(running.env, "--horizon", "3w").exit_code == 2
    assert not running.requests  # nothing was asked of the lab


def test_horizon_for_one_account(lab) -> None:
    running = lab("healthy")
    quiet = diagnose(running.env, "--horizon", "10d", "-o", "json")
    assert quiet.exit_code == 0
    horizon = quiet.json("diagnose/report@1")["horizon"]
    assert horizon == {"days": 10, "notices": [], "limitations": []}

    # the lab's client certificate ends in 30 days, its secret in 180, its key in 365
    wide = diagnose(running.env, "--horizon", "400d", "-o", "json")
    doc = wide.json("diagnose/report@1")
    kinds = sorted(n["kind"] for n in doc["horizon"]["notices"])
    assert kinds == ["identity-credential-expiry", "identity-credential-expiry", "key-expiry"]
    assert doc["status"] == "warn" and wide.exit_code == 0  # warnings, under --fail-on fail
    assert any(
        "(the one this run signs in with)" in n["message"] for n in doc["horizon"]["notices"]
    )
    assert diagnose(running.env, "--horizon", "400d", "--fail-on", "warn").exit_code == 1

    text = diagnose(running.env, "--horizon", "60d")
    assert "Inside the horizon (60 days)" in text.stdout
    assert "certificate" in text.stdout
    assert running.env["AZURE_CLIENT_SECRET"] not in text.stdout + text.stderr


def test_horizon_of_an_application_backed_cmk_principal(lab) -> None:
    running = lab("sp-disabled")  # the CMK identity is a multi-tenant application
    app = running.world.principals[running.world.cmk_principal_id]
    assert app.type == "Application"
    doc = diagnose(running.env, "--horizon", "400d", "-o", "json").json("diagnose/report@1")
    # the lab's application has no dated credential: Graph's object was read, nothing is due
    assert not [
        n for n in doc["horizon"]["notices"] if n["kind"] == "cmk-principal-credential-expiry"
    ]
    assert doc["horizon"]["limitations"] == []
    reads = [r.path for r in running.requests if "/applications(" in r.path]
    assert any(app.app_id in p for p in reads)
