"""`diagnose timeline` against the lab: the change, its actor and time, and the first failure after it."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from diagnose.lab.history import ADMIN, HISTORY, LEGACY, NO_SETTING, RESOURCE_SPECIFIC
from diagnose.lab.roles import READER
from tests.harness import Cli
from tests.schemas import validate_document
from tests.timeline.lab_queries import folded_times, run_query

SCENARIOS = {
    # scenario: (source of the blamed change, what its operation or detail names)
    "sp-disabled": ("entra-audit", "AccountEnabled true → false"),
    "kv-role-missing": ("activity-log", "Microsoft.Authorization/roleAssignments/delete"),
    "key-disabled": ("resource-changes", "properties.attributes.enabled true → false"),
    "kv-firewall": ("resource-changes", "properties.networkAcls.defaultAction Allow → Deny"),
}


def timeline(cli: Cli, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    proc = cli("timeline", "--output", "json", *args, env=env)
    assert proc.exit_code in (0, 1, 3), str(proc)
    return proc.exit_code, validate_document(proc.stdout)  # diagnose/timeline@1


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_change_before_the_first_failure(cli: Cli, scenario: str) -> None:
    code, doc = timeline(cli, "--lab", scenario)
    source, names = SCENARIOS[scenario]
    blamed, first = doc["blamed"], doc["first_failure"]
    assert code == 1 and blamed and first, doc["verdict"]
    assert blamed["source"] == source
    assert names in blamed["operation"] + " " + blamed["detail"]
    assert blamed["actor"] == ADMIN.upn
    assert blamed["time"] < first["time"]
    # the story's time: the change happened `minutes_ago` before the lab started (within a minute)
    until = doc["until"]
    from datetime import datetime

    ago = datetime.fromisoformat(until) - datetime.fromisoformat(blamed["time"])
    assert abs(ago - timedelta(minutes=HISTORY[scenario].minutes_ago)) < timedelta(minutes=1)
    assert first["kind"] == "failure" and first["source"] in ("key-vault-logs", "cosmos-logs")
    assert not [s for s in doc["sources"] if s["limitation"]]
    assert "Change before the first failure" in doc["verdict"]


def test_healthy_blames_nothing_and_exits_0(cli: Cli) -> None:
    code, doc = timeline(cli, "--lab", "healthy")
    assert code == 0
    assert doc["blamed"] is None and doc["first_failure"] is None
    assert [e["kind"] for e in doc["events"]] and {e["kind"] for e in doc["events"]} == {"change"}
    assert doc["verdict"].startswith("No failure was recorded")
    assert all(s["reach"] and s["lag"] for s in doc["sources"])


def test_text_and_markdown(cli: Cli) -> None:
    text = cli("timeline", "--lab", "sp-disabled")
    assert text.exit_code == 1
    assert "Update service principal" in text.stdout and "admin@contoso.com" in text.stdout
    assert "reaches 90 days" in text.stdout and "reaches 14 days" in text.stdout
    md = cli("timeline", "--lab", "sp-disabled", "--output", "markdown")
    assert md.stdout.startswith("## What changed")
    assert "| time (UTC) | kind | source | actor | operation | object | detail |" in md.stdout


def test_a_walk_that_re_enables_shows_up_as_the_diagnosing_identitys_audit_event(
    lab, cli: Cli
) -> None:
    running = lab("sp-disabled")
    walk = cli(
        "runbook",
        "walk",
        "cosmosdb-auth-errors",
        "--fix",
        "--yes",
        "--no-input",
        "--wait",
        "20",
        env=running.env,
        timeout=240,
    )
    assert walk.exit_code in (0, 1), str(walk)
    code, doc = timeline(cli, env=running.env)
    audits = [e for e in doc["events"] if e["source"] == "entra-audit"]
    assert [a["detail"] for a in audits] == [
        "AccountEnabled true → false",
        "AccountEnabled false → true",
    ]
    assert audits[1]["actor"].startswith("diagnose-reader (app ")
    assert running.world is not None
    assert running.world.diagnoser.app_id in audits[1]["actor"]


def _without_reader(world: Any) -> None:
    """The diagnosing identity loses its Reader role (everywhere it had it)."""
    world.role_assignments = [
        a
        for a in world.role_assignments
        if not (a.principal_id == world.diagnoser_id and a.role == READER)
    ]


def _without(env: dict[str, str], *names: str) -> dict[str, str]:
    """The lab's profile without the variables `names` (as if the profile left them out)."""
    return {k: v for k, v in env.items() if k not in names}


def _limitations(doc: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["limitation"]["permission"] for s in doc["sources"] if s["limitation"]}


def test_without_audit_log_read_entra_is_a_limitation_and_the_others_answer(lab, cli: Cli) -> None:
    running = lab("sp-disabled")
    assert running.world is not None
    running.world.diagnoser.app_roles.remove("AuditLog.Read.All")
    code, doc = timeline(cli, env=running.env)
    assert _limitations(doc) == {"entra-audit": "Microsoft Graph AuditLog.Read.All"}
    assert code == 1  # the Cosmos DB refusals still came from Log Analytics
    assert doc["blamed"] is None and doc["first_failure"]["source"] == "cosmos-logs"


def test_without_reader_the_arm_sources_and_log_analytics_name_their_rights(lab, cli: Cli) -> None:
    running = lab("kv-firewall")
    world = running.world
    assert world is not None
    _without_reader(world)
    code, doc = timeline(cli, env=running.env)
    found = _limitations(doc)
    assert "Reader" in found["activity-log"] and "eventtypes/values/read" in found["activity-log"]
    assert "Reader on" in found["resource-changes"]
    changes = next(s for s in doc["sources"] if s["name"] == "resource-changes")
    assert changes["limitation"]["reason"].startswith("Resource Graph "), changes  # not "ARM"
    assert "Log Analytics Reader" in found["key-vault-logs"]
    assert "entra-audit" not in found  # Graph still answers
    assert code == 3 and doc["events"] == []


def test_log_analytics_reader_alone_is_missing(lab, cli: Cli) -> None:
    """Reader on the CMK resource group only: ARM answers, the workspace (elsewhere) refuses."""
    running = lab("kv-firewall")
    world = running.world
    assert world is not None
    for a in world.role_assignments:
        if a.principal_id == world.diagnoser_id and a.role == READER:
            a.scope = world.group_scope
    code, doc = timeline(cli, env=running.env)
    assert set(_limitations(doc)) == {"key-vault-logs", "cosmos-logs"}
    assert all("Log Analytics Reader" in p for p in _limitations(doc).values())
    # the others still answer: the change is there; with no failure readable, nothing is blamed
    assert {e["source"] for e in doc["events"]} == {"resource-changes", "activity-log"}
    assert code == 3 and doc["blamed"] is None


@pytest.mark.parametrize("mode", [RESOURCE_SPECIFIC, LEGACY])
def test_every_printed_query_runs_against_the_lab_and_returns_the_timeline_events(
    lab, cli: Cli, mode: str
) -> None:
    """In either mode of the diagnostic settings, the queries of the tables the workspace holds
    return the timeline's events; those of the other mode's tables get Log Analytics' error."""
    running = lab("key-disabled")
    running.history.mode = mode
    kql = cli("timeline", "--kql", env=running.env)
    assert kql.exit_code == 0, str(kql)
    blocks = [b for b in kql.stdout.strip().split("\n\n") if b.strip()]
    # Resource Graph: visibility, changes; Log Analytics: Key Vault, Cosmos DB, each in both tables
    assert len(blocks) == 6
    code, doc = timeline(cli, env=running.env)
    assert code == 1 and not [s for s in doc["sources"] if s["limitation"]], doc["sources"]
    results = {}
    for block in blocks:
        header, text = block.split("\n", 1)
        service, scope, purpose = re.fullmatch(r"// (.+?), (.+?): (.+)", header).groups()  # type: ignore[union-attr]
        legacy = text.startswith("AzureDiagnostics")
        if service == "Log Analytics" and legacy != (mode == LEGACY):
            with pytest.raises(HttpResponseError, match="Failed to resolve table"):
                run_query(running, service, scope, text)
            continue
        results[purpose.removesuffix(" (AzureDiagnostics)")] = run_query(
            running, service, scope, text
        )
    times = {e["time"] for e in doc["events"]}
    changes = results["property changes"]
    assert changes and all(_second(r["changeTime"]) in times for r in changes)
    refusals = results["Key Vault changes and refusals"]
    assert refusals and {_second(r["TimeGenerated"]) for r in refusals} <= times | folded_times(doc)
    cosmos = results["Cosmos DB data-plane refusals"]
    assert cosmos and {_second(r["TimeGenerated"]) for r in cosmos} <= times | folded_times(doc)
    kv_source = next(s for s in doc["sources"] if s["name"] == "key-vault-logs")
    assert ("Azure diagnostics mode" in " ".join(kv_source["notes"])) == (mode == LEGACY)


def _second(value: Any) -> str:
    text = value if isinstance(value, str) else value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return text[:19] + "Z"


@pytest.mark.parametrize("since", ["yesterday", "2099-01-01T00:00:00Z", "7x"])
def test_a_bad_since_is_exit_2(cli: Cli, since: str) -> None:
    proc = cli("timeline", "--lab", "healthy", "--since", since)
    assert proc.exit_code == 2 and "--since" in proc.stderr


def test_evidence_lines_up_explains_first_sighting(lab, cli: Cli, tmp_path: Path) -> None:
    running = lab("sp-disabled")
    trigger = cli(
        "run",
        "--trigger",
        "--trigger-deadline",
        "10",
        "--only",
        "campaign.trigger",
        env=running.env,
    )
    assert trigger.exit_code == 1, str(trigger)
    log = tmp_path / "ajo.log"
    log.write_text(running.ajo_log())
    code, doc = timeline(cli, "--evidence", str(log), env=running.env)
    evidence = [e for e in doc["events"] if e["source"] == "evidence"]
    codes = {e["operation"].split(":")[0] for e in evidence}
    assert codes & {"cosmos.revoked.4000", "campaign.server-error"}, codes
    assert doc["blamed"]["source"] == "entra-audit"  # the change still precedes every failure
    assert evidence[0]["time"] > doc["blamed"]["time"]
    # the times are explain's own first sightings (explain@1 `timeline.first_seen`), not re-read lines
    notes = next(s["notes"] for s in doc["sources"] if s["name"] == "evidence")
    assert "times: explain's first sighting of each cause (timeline.first_seen)" in notes, notes


def test_run_what_changed_adds_the_section(cli: Cli) -> None:
    proc = cli("run", "--lab", "sp-disabled", "--what-changed", "--output", "json")
    assert proc.exit_code == 1, str(proc)
    section = validate_document(proc.stdout)["what_changed"]  # the run report's schema
    assert section["blamed"]["source"] == "entra-audit"
    plain = cli("run", "--lab", "healthy", "--output", "json")
    assert plain.exit_code == 0 and "what_changed" not in plain.json()
    text = cli("run", "--lab", "sp-disabled", "--what-changed")
    assert "Change before the first failure: Update service principal" in text.stdout


def _cosmos_failures(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in doc["events"] if e["source"] == "cosmos-logs"]


@pytest.mark.parametrize("mode", [RESOURCE_SPECIFIC, LEGACY])
def test_cosmos_callers_are_named_from_graph(lab, cli: Cli, mode: str) -> None:
    """In either table, a Cosmos DB refusal names its caller: Graph's display name and object id."""
    running = lab("sp-disabled")
    running.history.mode = mode
    world = running.world
    assert world is not None
    caller = world.principals[world.caller_id]
    code, doc = timeline(cli, env=running.env)
    assert code == 1
    failures = _cosmos_failures(doc)
    assert failures and doc["first_failure"]["source"] == "cosmos-logs"
    assert {e["actor"] for e in failures} == {
        f"{caller.display_name} (principal {caller.object_id})"
    }
    assert doc["blamed"]["source"] == "entra-audit" and doc["blamed"]["actor"] == ADMIN.upn


def test_without_graph_read_a_cosmos_caller_is_its_object_id_said_as_such(lab, cli: Cli) -> None:
    running = lab("sp-disabled")
    world = running.world
    assert world is not None
    for role in ("Application.Read.All", "Application.ReadWrite.All"):
        world.diagnoser.app_roles.remove(role)
    caller = world.principals[world.caller_id]
    code, doc = timeline(cli, env=running.env)
    failures = _cosmos_failures(doc)
    assert failures and {e["actor"] for e in failures} == {f"object id {caller.object_id}"}
    cosmos = next(s for s in doc["sources"] if s["name"] == "cosmos-logs")
    assert any("Application.Read.All" in n for n in cosmos["notes"]), cosmos
    assert cosmos["limitation"] is None  # the refusals are still read and shown


def test_a_workspace_holding_neither_table_is_a_limitation(lab, cli: Cli) -> None:
    """No diagnostic setting sends the vault's or the account's logs: never 'nothing changed'."""
    running = lab("key-disabled")
    running.history.mode = NO_SETTING
    code, doc = timeline(cli, env=running.env)
    found = {s["name"]: s["limitation"] for s in doc["sources"] if s["limitation"]}
    assert set(found) == {"key-vault-logs", "cosmos-logs"}
    assert "AZKVAuditLogs" in found["key-vault-logs"]["reason"]
    assert "diagnostic setting" in found["key-vault-logs"]["reason"]
    assert code == 3 and doc["blamed"] is None


@pytest.mark.parametrize(
    ("dropped", "unasked"),
    [
        (
            ("DIAGNOSE_KEYVAULT_ID", "DIAGNOSE_KEY_ID", "DIAGNOSE_COSMOS_ID"),
            {
                "key-vault-logs": "(keyvault_id)",
                "cosmos-logs": "(cosmos_id)",
                "activity-log": "(keyvault_id, key_id, cosmos_id)",
                "resource-changes": "(keyvault_id, key_id, cosmos_id)",
            },
        ),
        (
            ("DIAGNOSE_PRINCIPAL_APP_ID", "DIAGNOSE_COSMOS_ID"),
            {"entra-audit": "(principal_app_id)", "cosmos-logs": "(cosmos_id)"},
        ),
    ],
)
def test_a_source_the_profile_gives_nothing_to_ask_says_which_key_it_lacks(
    lab, cli: Cli, dropped: tuple[str, ...], unasked: dict[str, str]
) -> None:
    """Not asked is said, with the profile key that would make it asked; the others answer.
    (Without cosmos_id nothing is derived from the account: see the test below.)"""
    running = lab("sp-disabled")
    assert all(name in running.env for name in dropped), sorted(running.env)
    env = _without(running.env, *dropped)
    _, doc = timeline(cli, env=env)
    for s in doc["sources"]:
        notes = [n for n in s["notes"] if n.startswith("not asked")]
        if s["name"] in unasked:
            assert len(notes) == 1 and unasked[s["name"]] in notes[0], s
            assert s["limitation"] is None and s["events"] == 0, s
        else:
            assert not notes, s


def test_the_vault_key_and_principal_are_derived_from_the_account_as_run_does(
    lab, cli: Cli
) -> None:
    """A profile naming only the account: the timeline reads the vault, the key and the default
    identity from it, so the role assignment's deletion is still found and blamed."""
    running = lab("kv-role-missing")
    dropped = ("DIAGNOSE_KEYVAULT_ID", "DIAGNOSE_KEY_ID", "DIAGNOSE_PRINCIPAL_APP_ID")
    env = _without(running.env, *dropped)
    code, doc = timeline(cli, env=env)
    assert not [s for s in doc["sources"] if any(n.startswith("not asked") for n in s["notes"])]
    source, names = SCENARIOS["kv-role-missing"]
    assert code == 1 and doc["blamed"]["source"] == source, doc["verdict"]
    assert names in doc["blamed"]["operation"] + " " + doc["blamed"]["detail"]
    # run --what-changed reads the same: its own derived profile, not the one it was given
    proc = cli("run", "--what-changed", "--output", "json", env=env)
    report = proc.json("diagnose/report@1")
    assert report["what_changed"]["blamed"]["source"] == source, report["what_changed"]


def test_an_account_key_uri_that_is_no_key_uri_is_never_a_traceback(lab, cli: Cli) -> None:
    """Derived values are held to the profile's rules: a keyVaultKeyUri naming a secret is not
    taken as the key; timeline and run --what-changed still answer."""
    running = lab("healthy")
    world = running.world
    assert world is not None
    world.cosmos.key_uri = world.vault.key_uri("cmk").replace("/keys/", "/secrets/")
    env = _without(running.env, "DIAGNOSE_KEY_ID")
    code, doc = timeline(cli, env=env)
    assert code in (0, 1, 3), doc
    report = cli("run", "--what-changed", "--output", "json", env=env)
    assert "Traceback" not in report.stderr and report.exit_code in (0, 1, 3), report
    assert report.json("diagnose/report@1")["what_changed"] is not None


def test_what_the_account_could_not_tell_is_said_where_a_source_was_not_asked(
    lab, cli: Cli
) -> None:
    """The account cannot be read (the diagnosing identity lost Reader on it): the unasked
    sources say why nothing was derived, not only which profile key is missing."""
    running = lab("kv-role-missing")
    world = running.world
    assert world is not None
    _without_reader(world)
    dropped = ("DIAGNOSE_KEYVAULT_ID", "DIAGNOSE_KEY_ID")
    _, doc = timeline(cli, env=_without(running.env, *dropped))
    kv = next(s for s in doc["sources"] if s["name"] == "key-vault-logs")
    notes = " ".join(kv["notes"])
    assert "not asked: the profile names no key vault (keyvault_id)" in notes, kv
    assert "not derived from the account: the Cosmos DB account could not be read" in notes, kv


def test_kql_says_which_queries_a_run_would_add_from_the_account(lab, cli: Cli) -> None:
    """--kql reads no service: with no keyvault_id it cannot print the Key Vault queries a run
    derives, and says so first; with it, it prints them and no such note."""
    running = lab("kv-role-missing")
    dropped = ("DIAGNOSE_KEYVAULT_ID", "DIAGNOSE_KEY_ID")
    bare = cli("timeline", "--kql", env=_without(running.env, *dropped))
    assert bare.exit_code == 0 and bare.stdout.startswith("// the profile names no key vault")
    assert "AZKVAuditLogs" not in bare.stdout
    whole = cli("timeline", "--kql", env=running.env)
    assert whole.exit_code == 0 and "AZKVAuditLogs" in whole.stdout
    assert "names no key vault" not in whole.stdout
