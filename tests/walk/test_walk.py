"""`diagnose runbook walk` against the lab: scripted answers on stdin, the lab's request log as proof."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from diagnose import __version__, catalogue
from diagnose.lab.scenarios import SCENARIO_OBJECTS
from tests.harness import CliResult, run_cli
from tests.schemas import validate_document


def walk(
    lab_env: dict[str, str], *args: str, answers: str = "", timeout: float = 180
) -> tuple[CliResult, Any]:
    """`runbook walk cosmosdb-auth-errors ARGS`; the JSON transcript, validated, when one is written."""
    transcript = Path(args[args.index("--transcript") + 1]) if "--transcript" in args else None
    proc = run_cli(
        "runbook",
        "walk",
        "cosmosdb-auth-errors",
        *args,
        env=lab_env,
        stdin=answers,
        timeout=timeout,
    )
    data = (
        validate_document(transcript.read_text())
        if transcript and transcript.suffix == ".json"
        else None
    )
    return proc, data


def stops_at_a_later_step() -> list[tuple[str, int, str]]:
    """(scenario, step, root cause) of the own-topology scenarios whose cause is past step 1 of the walk."""
    found = []
    for scenario in SCENARIO_OBJECTS.values():
        if scenario.root_cause is None or scenario.topology != "own":
            continue
        ref = catalogue.default().cause(scenario.root_cause).ref
        if ref.runbook == "cosmosdb-auth-errors" and ref.step and ref.step > 1:
            found.append((scenario.name, ref.step, scenario.root_cause))
    return found


def test_scripted_fix_recovery_and_retest_in_sp_disabled(lab, tmp_path: Path) -> None:
    running = lab("sp-disabled")
    out = tmp_path / "walk.json"
    # answers: apply the fix? y ; send the test call? y
    proc, data = walk(
        running.env,
        "--fix",
        "--wait",
        "30",
        "--trigger-deadline",
        "10",
        "--transcript",
        str(out),
        answers="y\ny\n",
    )
    assert proc.exit_code == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert data["schema"] == "diagnose/walk@1" and data["final"] == "healthy"
    step1 = data["steps"][0]
    first, last = step1["attempts"][0], step1["attempts"][-1]
    assert first["status"] == "fail"
    finding = first["checks"][0]["findings"][0]
    assert finding["code"] == "principal.disabled" and finding["evidence"]["object_id"]
    assert last["status"] == "pass"
    (fix,) = data["fixes"]
    assert fix["id"] == "reenable-principal" and fix["applied"] is True and fix["at"]
    assert data["recovery"]["recovered"] is True
    assert data["retest"]["http_status"] == 202 and data["retest"]["execution_id"].startswith(
        "UMA-"
    )
    assert [s["status"] for s in data["steps"]] == ["pass", "pass", "pass", "pass"]
    writes = running.writes()
    assert [(w.service, w.method) for w in writes] == [("graph", "PATCH"), ("platform", "POST")]
    assert "Apply 'reenable-principal'" in proc.stdout and "PATCH" in proc.stdout
    # the request as sent: JSON, in the console and in the transcript
    object_id = finding["evidence"]["object_id"]
    assert fix["request"]["method"] == "PATCH"
    assert fix["request"]["url"].endswith(f"/v1.0/servicePrincipals/{object_id}")
    assert fix["request"]["body"] == {"accountEnabled": True}
    assert f'servicePrincipals/{object_id} {{"accountEnabled": true}}' in proc.stdout
    assert "'accountEnabled'" not in proc.stdout
    assert writes[0].path.endswith(object_id)
    for secret in (running.env["AZURE_CLIENT_SECRET"], running.env["DIAGNOSE_ADOBE_CLIENT_SECRET"]):
        assert secret not in out.read_text() and secret not in proc.stdout


def test_without_fix_nothing_is_written(lab, tmp_path: Path) -> None:
    running = lab("sp-disabled")
    out = tmp_path / "walk.md"
    proc, _ = walk(running.env, "--no-input", "--transcript", str(out))
    assert proc.exit_code == 1
    assert running.writes() == []
    text = out.read_text()
    assert "UNHEALTHY" in text and "principal.disabled" in text
    assert "offered; not applied" in text


def test_declining_the_fix_writes_nothing(lab, tmp_path: Path) -> None:
    running = lab("sp-disabled")
    proc, data = walk(
        running.env, "--fix", "--transcript", str(tmp_path / "w.json"), answers="n\nq\n"
    )
    assert proc.exit_code == 1
    assert running.writes() == []
    assert data["fixes"][0]["applied"] is False and data["fixes"][0]["detail"] == "declined"
    assert data["fixes"][0]["request"]["body"] == {"accountEnabled": True}  # what was declined
    (decline, stop) = data["steps"][0]["decisions"]
    assert decline["answer"] == "no" and stop["answer"] == "q"
    assert decline["seq"] < data["fixes"][0]["seq"] < stop["seq"]


def test_no_input_without_yes_never_writes_and_fails(lab, tmp_path: Path) -> None:
    running = lab("sp-disabled")
    proc, data = walk(running.env, "--fix", "--no-input", "--transcript", str(tmp_path / "w.json"))
    assert proc.exit_code == 1
    assert running.writes() == []
    assert data["final"] == "unhealthy" and data["fixes"][0]["applied"] is False


def test_no_input_with_yes_fixes(lab, tmp_path: Path) -> None:
    running = lab("sp-disabled")
    proc, data = walk(
        running.env,
        "--fix",
        "--no-input",
        "--yes",
        "--wait",
        "30",
        "--transcript",
        str(tmp_path / "w.json"),
    )
    assert proc.exit_code == 0, proc.stdout[-2000:]
    assert data["final"] == "healthy" and data["retest"]["http_status"] == 202


def test_deleted_principal_is_restored_when_restorable(lab, tmp_path: Path) -> None:
    running = lab("sp-deleted")
    proc, data = walk(
        running.env,
        "--fix",
        "--yes",
        "--no-input",
        "--wait",
        "30",
        "--transcript",
        str(tmp_path / "w.json"),
    )
    assert proc.exit_code == 0, proc.stdout[-3000:]
    (fix,) = data["fixes"]
    assert fix["id"] == "restore-principal" and fix["applied"] is True
    assert fix["request"]["method"] == "POST" and fix["request"]["body"] is None
    assert fix["request"]["url"].endswith("/restore") and fix["step"] == 1
    assert [(w.service, w.method) for w in running.writes()][0] == ("graph", "POST")
    assert "/restore" in running.writes()[0].path


def test_deleted_principal_past_restore_says_what_to_do(lab, tmp_path: Path) -> None:
    running = lab("sp-deleted")
    del running.world.principals[
        running.world.cmk_principal_id
    ]  # purged: no longer in deleted items
    proc, data = walk(
        running.env, "--fix", "--yes", "--no-input", "--transcript", str(tmp_path / "w.json")
    )
    assert proc.exit_code == 1
    assert data["fixes"] == [] and running.writes() == []
    assert "cannot be restored" in proc.stdout
    assert "Recreate the identity, grant it the key" in proc.stdout
    assert data["steps"][0]["checks"][0]["findings"][0]["evidence"]["restorable"] is False


@pytest.mark.parametrize(("scenario", "step", "code"), stops_at_a_later_step())
def test_other_scenarios_stop_at_their_step_with_evidence(
    lab, tmp_path: Path, scenario: str, step: int, code: str
) -> None:
    running = lab(scenario)
    proc, data = walk(running.env, "--no-input", "--transcript", str(tmp_path / "w.json"))
    assert proc.exit_code == 1
    statuses = [s["status"] for s in data["steps"]]
    assert statuses == ["pass"] * (step - 1) + ["fail"], statuses
    codes = [f["code"] for c in data["steps"][-1]["checks"] for f in c["findings"]]
    assert code in codes
    assert running.writes() == []


def test_unknown_runbook_is_exit_2() -> None:
    proc = run_cli("runbook", "walk", "no-such-runbook", "--lab", "healthy", timeout=60)
    assert proc.exit_code == 2 and "no runbook 'no-such-runbook'" in proc.stderr


def test_without_fix_the_retest_call_is_not_offered(lab, tmp_path: Path) -> None:
    running = lab("healthy")
    proc, data = walk(running.env, "--yes", "--no-input", "--transcript", str(tmp_path / "w.json"))
    assert proc.exit_code == 0, proc.stdout[-2000:]
    assert running.writes() == []
    assert data["retest"] is None and "offered only with --fix" in proc.stdout


def test_a_fix_that_is_refused_is_recorded_not_a_traceback(lab, tmp_path: Path) -> None:
    running = lab("sp-disabled")
    running.world.principals[running.world.diagnoser_id].app_roles = [
        "Application.Read.All"
    ]  # no write
    proc, data = walk(
        running.env, "--fix", "--yes", "--no-input", "--transcript", str(tmp_path / "w.json")
    )
    assert "Traceback" not in proc.stderr
    assert (
        proc.exit_code == 1
    )  # the principal is still disabled: a finding, whatever the tool's rights
    (fix,) = data["fixes"]
    assert fix["applied"] is False and fix["detail"].startswith("refused:")
    assert "Application.ReadWrite.All" in proc.stdout


def test_a_gateways_403_on_the_fix_is_a_failure_said_as_such_not_a_refusal(
    lab, tmp_path: Path
) -> None:
    """Only Graph's own refusal names the right the fix lacks: a gateway's 403 page on the PATCH
    (the lab's html-error fault on the principal's path, which the proof reads by app id) is a
    failed fix, said as what happened."""
    running = lab("sp-disabled", faults=[r"graph:html-error@servicePrincipals/[0-9a-f-]{36}$"])
    proc, data = walk(
        running.env, "--fix", "--yes", "--no-input", "--transcript", str(tmp_path / "w.json")
    )
    assert "Traceback" not in proc.stderr and proc.exit_code == 1
    (fix,) = data["fixes"]
    assert fix["applied"] is False, fix
    assert fix["detail"].startswith("failed: Microsoft Graph answered 403: no error of its own")
    assert "The fix was refused" not in proc.stdout


def _events(data: dict) -> list[tuple[int, str, int]]:
    """(seq, kind, step) of everything the walk recorded, sorted by seq."""
    found = [(a["seq"], "proof", s["step"]) for s in data["steps"] for a in s["attempts"]]
    found += [(d["seq"], "decision", s["step"]) for s in data["steps"] for d in s["decisions"]]
    found += [(f["seq"], "fix", f["step"]) for f in data["fixes"]]
    if data["recovery"]:
        found.append((data["recovery"]["seq"], "recovery", data["recovery"]["step"]))
    return sorted(found)


def _fixed_walk(lab, transcript: Path) -> tuple[Any, CliResult, Any]:
    """sp-disabled walked with every fix consented up front: (the lab, the process, JSON or None)."""
    running = lab("sp-disabled")
    proc, data = walk(
        running.env, "--fix", "--yes", "--no-input", "--wait", "30", "--transcript", str(transcript)
    )
    assert proc.exit_code == 0, proc.stdout[-2000:]
    return running, proc, data


def test_transcript_names_what_was_walked_and_tells_it_in_order(lab, tmp_path: Path) -> None:
    running, proc, data = _fixed_walk(lab, tmp_path / "w.json")
    env = running.env
    assert data["version"] == __version__ and data["catalogue"] == catalogue.default().version
    subject = data["subject"]
    assert subject["tenant"] == env["AZURE_TENANT_ID"]
    assert subject["account"] == env["DIAGNOSE_COSMOS_ID"].rsplit("/", 1)[-1]
    assert subject["vault"] == env["DIAGNOSE_KEYVAULT_ID"].rsplit("/", 1)[-1]
    assert subject["campaign"] == env["DIAGNOSE_CAMPAIGN_ID"] and subject["topology"] == "own"
    for value in (subject["tenant"], subject["account"], subject["campaign"], __version__):
        assert value in proc.stdout.split("Step 1:")[0]  # said before the first step
    events = _events(data)
    assert [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
    # step 1: the failing proof, the consent, the fix it allowed, the re-check, the wait;
    # step 4: the consent to the test call, then the proof that made it
    assert [(kind, step) for _, kind, step in events] == [
        ("proof", 1),
        ("decision", 1),
        ("fix", 1),
        ("proof", 1),
        ("recovery", 1),
        ("proof", 2),
        ("proof", 3),
        ("decision", 4),
        ("proof", 4),
    ]


def test_markdown_transcript_reads_in_the_order_things_happened(lab, tmp_path: Path) -> None:
    out = tmp_path / "walk.md"
    running, _, _ = _fixed_walk(lab, out)
    text = out.read_text()
    head, step1 = text.split("### Step 1:")[0], text.split("### Step 1:")[1].split("### Step 2:")[0]
    for line in (
        f"| tenant | {running.env['AZURE_TENANT_ID']} |",
        f"| Cosmos DB account | {running.env['DIAGNOSE_COSMOS_ID'].rsplit('/', 1)[-1]} |",
        f"| campaign | {running.env['DIAGNOSE_CAMPAIGN_ID']} |",
        f"| diagnose | {__version__}, catalogue {catalogue.default().version} |",
    ):
        assert line in head.splitlines(), head
    order = [
        step1.index("proof: **fail**"),
        step1.index("decision: Apply 'reenable-principal'"),
        step1.index("fix `reenable-principal`"),
        step1.index('body: `{"accountEnabled": true}`'),
        step1.index("proof: **pass**"),
        step1.index("recovery: recovered"),
    ]
    assert order == sorted(order), step1
    step4 = text.split("### Step 4:")[1]
    assert step4.index("decision: Send ONE real test call") < step4.index("proof: **pass**")
    assert "{'" not in text and "True" not in text  # no Python literal anywhere
