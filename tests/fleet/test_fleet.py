"""`diagnose run --all` against the fleet lab: found through Resource Graph, diagnosed right, the
shared root cause said once, each shared resource read once, reports in every format, baselines."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from jsonschema import Draft4Validator  # type: ignore[import-untyped]

from diagnose.lab import fleet
from diagnose.lab.fleet_lab import FleetLab
from tests.harness import Cli, CliResult, run_cli

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((ROOT / "tests" / "sarif" / "sarif-schema-2.1.0.json").read_text())
SHARED = "one disabled principal (ajo-cmk-legacy-app) revokes 2 accounts"


@pytest.fixture
def fleet_lab(lab_environ: object, cli: Cli) -> FleetLab:
    cli.env["DIAGNOSE_LAB_PROPAGATION_S"] = "0.05"
    started = lab_environ("fleet")  # type: ignore[operator]
    assert isinstance(started, FleetLab)
    return started


def run_all(cli: Cli, *args: str, **kw: object) -> CliResult:
    return cli("run", "--all", *args, **kw)  # type: ignore[arg-type]


def expected_broken() -> dict[str, str]:
    return {p.name: p.broken for p in fleet.layout(fleet.FleetSpec(50)) if p.broken}


def test_every_account_is_found_and_diagnosed_with_the_shared_cause_said_once(
    fleet_lab: FleetLab, cli: Cli
) -> None:
    result = run_all(cli, "-o", "json")
    assert result.exit_code == 1, result
    doc = result.json("diagnose/fleet@1")
    assert doc["summary"]["accounts"] == 50
    assert doc["summary"]["healthy"] == 47 and doc["summary"]["undecided"] == 0
    failing = {a["name"]: a["root_cause"] for a in doc["accounts"] if a["status"] == "failing"}
    assert failing == expected_broken()
    assert [s["message"] for s in doc["summary"]["shared"]] == [SHARED]
    shared = doc["summary"]["shared"][0]
    assert shared["kind"] == "principal" and len(shared["accounts"]) == 2
    ranked = [(c["code"], c["accounts"]) for c in doc["summary"]["causes"]]
    assert ranked[0] == ("principal.disabled", 2)
    # Resource Graph is a snapshot: customerManagedKeyStatus comes from ARM, read live
    cmk = {
        a["name"]: next(c for c in a["checks"] if c["id"] == "cosmos.cmk")["status"]
        for a in doc["accounts"]
    }
    assert {n for n, s in cmk.items() if s == "fail"} == set(expected_broken())

    text = run_all(cli)
    assert text.exit_code == 1, text
    assert text.stdout.count(SHARED) == 1
    assert "healthy 47 · failing 3 · undecided 0" in text.stdout


def test_each_vault_key_and_principal_is_read_once(fleet_lab: FleetLab, cli: Cli) -> None:
    before = len(fleet_lab.requests)
    assert run_all(cli, "-o", "json").exit_code == 1
    records = fleet_lab.requests[before:]
    gets = Counter(r.path.lower() for r in records if r.method == "GET" and r.service == "arm")
    assert fleet_lab.fleet is not None
    worlds = fleet_lab.fleet.worlds
    for vault in {w.vault.id.lower() for w in worlds}:
        assert gets[vault] == 1, vault
    for key in {f"{w.vault.id}/keys/{w.key_name}".lower() for w in worlds}:
        assert gets[key] == 1, key
    for account in (w.cosmos.id.lower() for w in worlds):
        assert gets[account] == 1, account  # customerManagedKeyStatus, live, once per account
    graph = Counter(r.path for r in records if r.service == "graph" and r.method == "GET")
    principals = {w.principals[w.cmk_principal_id].app_id for w in worlds}
    assert len(graph) == len(principals)
    for app_id in principals:
        assert graph[f"/v1.0/servicePrincipals(appId='{app_id}')"] == 1
    # Key Vault's data plane: one read of each key past the bearer challenge (401), each vault
    # on its own host; the disabled key's read is refused (KeyDisabled), once too
    keys = {(w.vault.name, w.key_name) for w in worlds}
    reads = [r for r in records if r.service == "vault" and r.method == "GET" and r.status != 401]
    assert len(reads) == len(keys)
    # the tokens are shared: one per audience, whatever the number of accounts
    tokens = [r for r in records if r.service == "entra" and r.method == "POST"]
    assert len(tokens) <= 3
    assert sum(1 for r in records if r.method == "POST" and r.service == "arm") == 2  # 2 queries


def test_narrowing_by_subscription_group_tag_and_management_group(
    fleet_lab: FleetLab, cli: Cli
) -> None:
    assert fleet_lab.fleet is not None
    placements = fleet_lab.fleet.placements
    subs = fleet_lab.fleet.subscription_ids
    solo = next(p for p in placements if p.broken == "key.disabled")

    def names(*args: str) -> set[str]:
        result = run_all(cli, "-o", "json", *args)
        assert result.exit_code in (0, 1), result
        return {a["name"] for a in result.json()["accounts"]}

    assert names("--subscription", subs[1]) == {p.name for p in placements if p.subscription == 1}
    assert names("--resource-group", solo.group.upper()) == {solo.name}  # names fold case
    dev = {p.name for p in placements if ("env", "dev") in p.tags}
    assert names("--tag", "env=dev") == dev
    assert names("--management-group", fleet.DEV_GROUP) == dev
    assert dev and solo.name in dev
    both = names("--subscription", subs[0], "--subscription", subs[1])
    assert both == {p.name for p in placements if p.subscription in (0, 1)}
    # a subscription with a management group narrows inside the group, never drops it
    inside = names("--management-group", fleet.PROD_GROUP, "--subscription", subs[0])
    assert inside == {p.name for p in placements if p.subscription == 0} and inside
    assert fleet.management_group(0) == fleet.PROD_GROUP
    outside = run_all(cli, "--management-group", fleet.DEV_GROUP, "--subscription", subs[0])
    assert outside.exit_code == 2 and "found no Cosmos DB account" in outside.stderr
    nothing = run_all(cli, "--resource-group", "rg-none")
    assert nothing.exit_code == 2 and "found no Cosmos DB account" in nothing.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (("--subscription", "not-a-guid"), "is not a subscription id"),
        (("--tag", "novalue"), "is not KEY=VALUE"),
        (("--resource-group", "a'b"), "is not a resource or management group name"),
    ],
)
def test_bad_narrowing_is_exit_2(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = run_all(cli, "--lab", "fleet", *args)
    assert result.exit_code == 2, result
    assert message in result.stderr and "Traceback" not in result.output


def test_narrowing_flags_need_all_and_one_profiles_flags_refuse_it(cli: Cli) -> None:
    result = cli("run", "--lab", "fleet", "--tag", "env=dev")
    assert result.exit_code == 2 and "need(s) --all" in result.stderr, result
    for flag in (("--trigger",), ("--only", "keyvault.key")):
        refused = cli("run", "--all", "--lab", "fleet", *flag)
        assert refused.exit_code == 2 and "belong(s) to one profile's run" in refused.stderr


def sarif_of(result: CliResult) -> dict[str, object]:
    doc = json.loads(result.stdout)
    errors = sorted(Draft4Validator(SARIF_SCHEMA).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors[:10]]
    return doc


def test_sarif_validates_and_fingerprints_are_stable(fleet_lab: FleetLab, cli: Cli) -> None:
    first, second = run_all(cli, "-o", "sarif"), run_all(cli, "-o", "sarif")
    assert first.exit_code == second.exit_code == 1, first
    docs = [sarif_of(first), sarif_of(second)]
    runs = [d["runs"][0] for d in docs]  # type: ignore[index]
    results = runs[0]["results"]
    assert {r["ruleId"] for r in results} == {
        "principal.disabled",
        "cosmos.revoked.4000",
        "key.disabled",
        "cosmos.revoked.4002",
    }
    rules = runs[0]["tool"]["driver"]["rules"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert rules[r["ruleIndex"]]["help"]["text"].startswith("Runbook ")
        location = r["locations"][0]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == "diagnose.toml"
        resource = location["logicalLocations"][0]["fullyQualifiedName"]
        assert resource.startswith("/subscriptions/") and "databaseAccounts/cosmos-ajo-" in resource
    prints = [
        sorted(r["partialFingerprints"]["primaryLocationLineHash"] for r in run["results"])
        for run in runs
    ]
    assert prints[0] == prints[1] and len(set(prints[0])) == len(results)


def test_sarif_for_one_account_uses_the_profile_file(
    lab_environ: object, cli: Cli, tmp_path: Path
) -> None:
    started = lab_environ("sp-disabled")  # type: ignore[operator]
    profile = tmp_path / "infra" / "diagnose.toml"
    profile.parent.mkdir()
    started.write_profile(profile)
    env = {
        k: v
        for k, v in started.env.items()
        if k.startswith(("AZURE_CLIENT", "DIAGNOSE_ADOBE_CLIENT"))
    }
    result = run_cli("run", "--config", "infra/diagnose.toml", "-o", "sarif", env=env, cwd=tmp_path)
    assert result.exit_code == 1, result
    doc = sarif_of(result)
    results = doc["runs"][0]["results"]  # type: ignore[index]
    assert results[0]["ruleId"] == "principal.disabled"
    uri = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "infra/diagnose.toml"


def test_a_baseline_written_then_read_passes_and_an_expired_entry_fails(
    fleet_lab: FleetLab, cli: Cli, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    written = run_all(cli, "--write-baseline", str(baseline), "-o", "json")
    assert written.exit_code == 0, written
    entries = json.loads(baseline.read_text())
    assert {e["code"] for e in entries} >= {"principal.disabled", "key.disabled"}
    assert all(set(e) == {"code", "resource", "reason", "expires"} for e in entries)

    read = run_all(cli, "--baseline", str(baseline), "-o", "json")
    assert read.exit_code == 0, read
    doc = read.json("diagnose/fleet@1")
    assert doc["baseline"]["accepted"] == len(entries) and doc["summary"]["failing"] == 0
    # in JUnit, an account's accepted findings are its suite's one <properties>, first
    import xml.etree.ElementTree as ET

    junit = ET.fromstring(run_all(cli, "--baseline", str(baseline), "-o", "junit").stdout)
    marked = [s for s in junit.findall("testsuite") if s.find("properties") is not None]
    assert marked and all(len(s.findall("properties")) == 1 for s in marked)
    assert all(s[0].tag == "properties" for s in marked)
    names = {p.get("name") for s in marked for p in s.iter("property")}
    assert {f"accepted:{e['code']}" for e in entries} == names
    # the gate passes (exit 0), and so does the CI test tab: accepted checks are skipped, not failed
    assert junit.get("failures") == "0" and not junit.findall("testsuite/testcase/failure")
    skipped = [c.find("skipped") for c in junit.iter("testcase") if c.find("skipped") is not None]
    assert any("accepted by the baseline" in (k.get("message") or "") for k in skipped)

    key_entry = next(e for e in entries if e["code"] == "key.disabled")
    key_entry["expires"] = "2020-01-01"
    baseline.write_text(json.dumps(entries))
    expired = run_all(cli, "--baseline", str(baseline))
    assert expired.exit_code == 1, expired
    assert "its baseline acceptance expired on 2020-01-01" in expired.stdout
    assert re.search(r"1 of 50 accounts failing", expired.stdout)


@pytest.mark.parametrize(
    "content, message",
    [
        ("{}", "must be a JSON list"),
        ("[1]", "entry 0 is not an object"),
        (
            '[{"code": "x.y", "resource": "r", "reason": "", "expires": null}]',
            "entry 0 needs a non-empty string 'reason'",
        ),
        ('[{"code": "x.y", "resource": "r", "reason": "z", "expires": "soon"}]', "is not a date"),
        (
            '[{"code": "x.y", "resource": "r", "reason": "z", "until": null}]',
            "unknown key(s): until",
        ),
        ("not json", "is not JSON"),
    ],
)
def test_a_bad_baseline_is_exit_2_naming_the_entry(
    cli: Cli, tmp_path: Path, content: str, message: str
) -> None:
    baseline = tmp_path / "b.json"
    baseline.write_text(content)
    result = run_all(cli, "--lab", "fleet", "--baseline", str(baseline))
    assert result.exit_code == 2, result
    assert message in result.stderr and str(baseline) in result.stderr


def test_junit_has_a_suite_per_account_and_markdown_the_summary(
    fleet_lab: FleetLab, cli: Cli
) -> None:
    import xml.etree.ElementTree as ET

    junit = run_all(cli, "-o", "junit")
    assert junit.exit_code == 1, junit
    root = ET.fromstring(junit.stdout)
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert len(suites) == 50
    # the root's totals add up its suites' test cases (what CI systems show), not accounts
    assert int(root.get("tests") or 0) == len(root.findall("testsuite/testcase")) == 300
    assert int(root.get("failures") or 0) == len(root.findall("testsuite/testcase/failure")) >= 3
    for counted in ("tests", "failures", "errors", "skipped"):
        assert root.get(counted) == str(sum(int(s.get(counted) or 0) for s in suites.values()))
    for name, cause in expected_broken().items():
        failures = suites[name].findall("testcase/failure")
        assert failures and any(cause in (f.text or "") for f in failures), name
    healthy = next(n for n in suites if n not in expected_broken())
    assert not suites[healthy].findall("testcase/failure")
    assert {c.get("name") for c in suites[healthy].findall("testcase")} == {
        "principal.enabled",
        "roles.keyvault",
        "keyvault.vault",
        "keyvault.key",
        "keyvault.unwrap",
        "cosmos.cmk",
    }

    markdown = run_all(cli, "-o", "markdown")
    assert markdown.exit_code == 1, markdown
    assert markdown.stdout.count(SHARED) == 1
    assert "| 47 | 3 | 0 |" in markdown.stdout
    for name in expected_broken():
        assert f"### ❌ {name}" in markdown.stdout


def test_horizon_warns_once_per_key_that_expires_without_rotation(
    fleet_lab: FleetLab, cli: Cli
) -> None:
    import time as clock

    from diagnose.fleet.horizon import rotates

    assert fleet_lab.fleet is not None
    soon = fleet_lab.fleet.worlds[0]  # cmk-a of kv-ajo-cmk-000: 7 accounts use it
    with fleet_lab.state.lock:
        soon.vault.keys[soon.key_name].exp = clock.time() + 10 * 86400
    users = [
        w.cosmos.id
        for w in fleet_lab.fleet.worlds
        if w.vault is soon.vault and w.key_name == soon.key_name
    ]
    doc = run_all(cli, "--horizon", "30d", "-o", "json").json("diagnose/fleet@1")
    notices = [n for n in doc["horizon"]["notices"] if n["kind"] == "key-expiry"]
    assert [n["name"] for n in notices] == [soon.key_name]
    assert sorted(notices[0]["accounts"]) == sorted(users) and len(users) == 7
    assert "no rotation policy rotates it" in notices[0]["message"]
    assert doc["status"] == "fail"  # the failing accounts still decide; the notice is a warning

    wide = run_all(cli, "--horizon", "400d", "-o", "json").json()
    keys = {(w.vault.name, w.key_name) for w in fleet_lab.fleet.worlds}
    wide_keys = [n for n in wide["horizon"]["notices"] if n["kind"] == "key-expiry"]
    assert len(wide_keys) == len(keys)
    assert sum(len(n["accounts"]) for n in wide_keys) == 50

    assert rotates({"rotationPolicy": {"lifetimeActions": [{"action": {"type": "Rotate"}}]}})
    assert not rotates({"rotationPolicy": {"lifetimeActions": [{"action": {"type": "Notify"}}]}})
    assert run_all(cli, "--horizon", "3w").exit_code == 2


def test_horizon_dates_the_identity_and_the_application_backed_cmk_principal(
    fleet_lab: FleetLab, cli: Cli
) -> None:
    """Graph's application objects: the diagnosing identity's own secret and certificate, and the
    secret of the multi-tenant application the two broken accounts name, said once with them."""
    from diagnose.lab.fleet_lab import LEGACY_APP

    assert fleet_lab.fleet is not None
    broken = sorted(
        w.cosmos.id
        for w in fleet_lab.fleet.worlds
        if "FederatedClientId=" in w.cosmos.default_identity
    )
    assert len(broken) == 2
    doc = run_all(cli, "--horizon", "30d", "-o", "json").json("diagnose/fleet@1")
    by_kind: dict[str, list[dict[str, object]]] = {}
    for n in doc["horizon"]["notices"]:
        by_kind.setdefault(str(n["kind"]), []).append(n)
    (cmk,) = by_kind["cmk-principal-credential-expiry"]
    assert sorted(cmk["accounts"]) == broken  # type: ignore[arg-type]
    assert f"the CMK principal {LEGACY_APP}'s secret" in str(cmk["message"])
    # the lab's client certificate lives 30 days; the secret this run signs in with, 180
    (own,) = by_kind["identity-credential-expiry"]
    assert "certificate" in str(own["message"]) and own["accounts"] == []
    assert doc["horizon"]["limitations"] == []

    wide = run_all(cli, "--horizon", "200d", "-o", "json").json("diagnose/fleet@1")
    own_wide = [n for n in wide["horizon"]["notices"] if n["kind"] == "identity-credential-expiry"]
    assert any("(the one this run signs in with)" in n["message"] for n in own_wide)
    assert len(own_wide) == 2

    short = run_all(cli, "--horizon", "10d", "-o", "json").json("diagnose/fleet@1")
    assert not [n for n in short["horizon"]["notices"] if n["kind"] != "key-expiry"]

    text = run_all(cli, "--horizon", "30d")
    assert f"{LEGACY_APP}'s secret" in text.stdout and "every run" in text.stdout
    assert fleet_lab.world.diagnoser.secrets[0].value not in text.stdout + text.stderr


def test_horizon_without_application_read_is_a_limitation_not_a_finding(
    fleet_lab: FleetLab, cli: Cli
) -> None:
    diagnoser = fleet_lab.world.diagnoser
    with fleet_lab.state.lock:
        diagnoser.app_roles = []  # no Application.Read.All: Graph answers 403
    result = run_all(cli, "--horizon", "30d", "-o", "json")
    doc = result.json("diagnose/fleet@1")
    limits = doc["horizon"]["limitations"]
    assert limits and all("Application.Read.All" in reason for reason in limits)
    assert not [n for n in doc["horizon"]["notices"] if n["kind"] != "key-expiry"]
    # Graph's servicePrincipals need the same right: principal.enabled cannot decide either
    assert result.exit_code == 3


def test_the_shared_disabled_principal_is_an_application_its_printed_fix_heals(
    fleet_lab: FleetLab, cli: Cli
) -> None:
    """The two broken accounts name one multi-tenant application (FederatedClientId): the fix
    the report prints, `az ad sp update --id <object id> --set accountEnabled=true`, is a Graph
    PATCH that an application's principal accepts (a managed identity's would be refused)."""
    import re

    from tests.lab.sdk import credential, get, send, token

    doc = run_all(cli, "-o", "json").json("diagnose/fleet@1")
    broken = [a for a in doc["accounts"] if a["root_cause"] == "principal.disabled"]
    assert len(broken) == 2
    evidence = [
        next(c for c in a["checks"] if c["id"] == "principal.enabled")["evidence"] for a in broken
    ]
    assert {e["type"] for e in evidence} == {"Application"}
    assert {e["app_id_from"] for e in evidence} == {
        "the account's default identity (federated client id)"
    }
    (object_id,) = {e["object_id"] for e in evidence}
    remediation = "\n".join(broken[0]["diagnosis"][0]["remediation"])
    assert re.search(rf"az ad sp update --id {object_id} --set accountEnabled=true", remediation)

    admin = fleet_lab.world.admin
    bearer = token(
        credential(fleet_lab, admin.app_id, admin.secrets[0].value), fleet_lab.urls["graph"]
    )
    url = f"{fleet_lab.urls['graph']}/v1.0/servicePrincipals/{object_id}"
    assert send(fleet_lab, "PATCH", url, bearer, json={"accountEnabled": True}).status_code == 204
    assert get(fleet_lab, url, bearer).json()["accountEnabled"] is True

    healed = run_all(cli, "-o", "json").json("diagnose/fleet@1")
    failing = {a["name"]: a["root_cause"] for a in healed["accounts"] if a["status"] == "failing"}
    assert failing == {n: c for n, c in expected_broken().items() if c == "key.disabled"}
    assert healed["summary"]["shared"] == []


def test_a_fault_on_a_service_the_fleet_lab_does_not_serve_is_refused(cli: Cli) -> None:
    """The fleet lab serves no Log Analytics: a fault naming it could never apply (exit 2)."""
    result = run_all(cli, "--lab", "fleet", env={"DIAGNOSE_LAB_FAULTS": "loganalytics:503"})
    assert result.exit_code == 2, result
    assert "serves no loganalytics" in result.stderr and "Traceback" not in result.stderr
