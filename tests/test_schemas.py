"""Every JSON document the tool prints validates against its shipped JSON Schema.

The documents come from the real CLI (in process) against the real lab, the
triage samples, the payload corpus and generated delivery data.
"""

from __future__ import annotations

import ast
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from diagnose import catalogue, schemas
from diagnose.delays import generate
from diagnose.lab import Lab
from diagnose.lab.scenarios import SCENARIO_OBJECTS
from tests.harness import Cli, CliResult
from tests.payload.test_lab import write_curl
from tests.schemas import validate_document, violations
from tests.triage.samples import SAMPLES

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "diagnose"
CORPUS = ROOT / "tests" / "payload" / "corpus"
# Schemas shipped ahead of the document carrying its `schema` key (see docs/design.md).
NOT_YET_EMITTED: set[str] = set()


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> Cli:
    """The `cli` fixture with a private ledger, run from a directory with no profile."""
    cli.env.update(XDG_STATE_HOME=str(tmp_path / "state"), DIAGNOSE_LAB_PROPAGATION_S="0.05")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return cli


def document(result: CliResult, *expected_exit: int) -> dict[str, Any]:
    assert result.exit_code in expected_exit, (result.exit_code, result.stderr[-1500:])
    assert "Traceback" not in result.stderr
    return validate_document(result.stdout)


# --- the schemas themselves ----------------------------------------------------------------
@pytest.mark.parametrize("schema_id", schemas.ids())
def test_each_schema_is_draft_2020_12_and_its_id_is_the_document_schema_value(
    schema_id: str,
) -> None:
    schema = schemas.load(schema_id)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == schema_id
    assert schema["properties"]["schema"] == {"const": schema_id}
    assert schema["additionalProperties"] is False


def _emitted_schema_values() -> set[str]:
    """The `diagnose/NAME@N` string constants in the package's code (not in the schemas)."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if "schemas" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and re.fullmatch(r"diagnose/[a-z-]+@\d+", value):
                found.add(value)
    return found


def test_the_schemas_are_exactly_the_documents_the_code_emits() -> None:
    emitted = _emitted_schema_values()
    assert emitted, "no diagnose/NAME@N value found in the code"
    assert emitted == set(schemas.ids()) - NOT_YET_EMITTED
    assert not emitted & NOT_YET_EMITTED, "now emitted: remove it from NOT_YET_EMITTED"


def test_shared_definitions_are_the_same_in_every_schema() -> None:
    seen: dict[str, tuple[str, Any]] = {}
    for schema_id in schemas.ids():
        for name, definition in schemas.load(schema_id).get("$defs", {}).items():
            first = seen.setdefault(name, (schema_id, definition))
            assert definition == first[1], f"$defs/{name} differs in {schema_id} and {first[0]}"
    assert {"diagnosisEntry", "runbookRef", "causeCode", "severity"} <= set(seen)


def test_an_unknown_id_is_refused() -> None:
    with pytest.raises(schemas.UnknownSchema):
        schemas.load("diagnose/nothing@1")
    with pytest.raises(schemas.UnknownSchema):
        schemas.load("report")


def test_the_wheel_ships_every_schema(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for source in (PACKAGE / "schemas").glob("*.json"):
            shipped = archive.read(f"diagnose/schemas/{source.name}")
            assert shipped == source.read_bytes(), source.name
        assert "diagnose/schemas/__init__.py" in archive.namelist()


# --- diagnose/report@1 ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "scenario",
    [
        "healthy",
        "sp-disabled",
        "kv-firewall",
        "purge-protection-off",
        "adobe-app-disabled",
        "diagnoser-secret-expired",
    ],
)
def test_run_report(invoke: Cli, scenario: str) -> None:
    """A few scenarios (each shape of report: healthy, causes, limitation); the verdicts are theirs."""
    exit_status = SCENARIO_OBJECTS[scenario].exit_status
    root_cause = SCENARIO_OBJECTS[scenario].root_cause
    report = document(invoke("run", "--lab", scenario, "--output", "json"), exit_status)
    assert report["exit_status"] == exit_status
    if root_cause:
        assert report["diagnosis"][0]["code"] == root_cause
    if exit_status == 3:
        assert any(c.get("limitation") for c in report["checks"])
    if scenario == "healthy":
        assert report["status"] == "pass" and report["diagnosis"] == []


@pytest.mark.parametrize(
    ("scenario", "extra", "trigger_code"),
    [
        ("sp-disabled", (), "campaign.server-error"),
        ("trigger-timeout", ("--trigger-deadline", "1"), "call.timeout"),
    ],
)
def test_run_report_with_the_trigger(
    invoke: Cli, tmp_path: Path, scenario: str, extra: tuple[str, ...], trigger_code: str
) -> None:
    out = tmp_path / "report.json"
    args = ("run", "--lab", scenario, "--trigger", *extra, "--output", "json", "--out", str(out))
    result = invoke(*args)
    assert result.exit_code == 1, result.stderr[-1500:]
    report = validate_document(out.read_text(encoding="utf-8"))
    (trigger,) = [c for c in report["checks"] if c["id"] == "campaign.trigger"]
    assert trigger_code in [f["code"] for f in trigger["findings"]]


def test_a_tampered_report_is_refused(invoke: Cli) -> None:
    report = document(invoke("run", "--lab", "sp-disabled", "--output", "json"), 1)
    report["status"] = "broken"
    report["checks"][0]["findings"][0]["severity"] = "fatal"
    report["diagnosis"][0]["extra"] = 1
    del report["started_at"]
    problems = "\n".join(violations(report, "diagnose/report@1"))
    for where in ("/status", "/checks/0/findings/0/severity", "/diagnosis/0", "/: 'started_at'"):
        assert where in problems, problems


# --- diagnose/explain@1 --------------------------------------------------------------------
def test_explain_on_the_labs_own_log(
    invoke: Cli, lab_environ: Callable[..., Lab], tmp_path: Path
) -> None:
    running = lab_environ("sp-disabled")
    assert invoke("run", "--trigger", "--only", "campaign.trigger").exit_code == 1
    log = tmp_path / "ajo-system.log"
    log.write_text(running.ajo_log(), encoding="utf-8")
    explained = document(invoke("explain", "--output", "json", str(log)), 1)
    assert explained["diagnosis"][0]["code"] == "cosmos.revoked.4000"


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_explain_on_the_triage_samples(invoke: Cli, tmp_path: Path, code: str) -> None:
    evidence = tmp_path / f"{code}.log"
    evidence.write_text("\n\n".join(SAMPLES[code]) + "\n", encoding="utf-8")
    explained = document(invoke("explain", "--output", "json", str(evidence)), 0, 1)
    assert explained["matches"]  # (an info cause makes no diagnosis entry)


def test_explain_with_nothing_recognised_and_an_unreadable_input(
    invoke: Cli, tmp_path: Path
) -> None:
    quiet = tmp_path / "quiet.log"
    quiet.write_text("all good\n", encoding="utf-8")
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00not really gzip")
    explained = document(invoke("explain", "--output", "json", str(quiet), str(broken)), 2)
    assert explained["diagnosis"] == [] and explained["problems"]


# --- diagnose/payload@1 --------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", sorted(p.name for p in CORPUS.iterdir() if not p.name.startswith("broken"))
)
def test_payload_check_offline_on_the_corpus(invoke: Cli, name: str) -> None:
    checked = document(invoke("payload", "check", str(CORPUS / name), "--output", "json"), 0, 1)
    assert checked["command"] == "check" and checked["execution"] is None


def _lab_curl(path: Path) -> Path:
    """A cURL for the lab's campaign (a scenario's ids are the same in every lab instance)."""
    with Lab("healthy") as lab:
        return write_curl(path, lab, host="https://platform.adobe.io")


@pytest.mark.parametrize(
    ("command", "scenario", "extra", "exit_status", "execution"),
    [
        ("check", "healthy", (), 0, None),
        ("check", "endpoint-mismatch", (), 1, None),
        ("send", "healthy", ("--yes",), 0, 202),
        ("send", "sp-disabled", ("--yes",), 1, 500),
        ("send", "trigger-timeout", ("--yes", "--deadline", "1"), 1, "timed out"),
    ],
)
def test_payload_against_the_lab(
    invoke: Cli,
    tmp_path: Path,
    command: str,
    scenario: str,
    extra: tuple[str, ...],
    exit_status: int,
    execution: int | str | None,
) -> None:
    curl = _lab_curl(tmp_path / "campaign.sh")
    args = ("payload", command, str(curl), "--lab", scenario, *extra, "--output", "json")
    result = document(invoke(*args), exit_status)
    assert result["campaign"] is not None
    if execution is None:
        assert result["execution"] is None
    elif execution == "timed out":
        assert result["execution"]["timed_out"] is True
    else:
        assert result["execution"]["http_status"] == execution


# --- diagnose/delays@1 ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("inject", "with_trigger_log", "exit_status"),
    [("upstream", False, 1), ("upstream", True, 1), ("downstream", False, 1), ("none", False, 0)],
)
def test_delays_on_generated_data(
    invoke: Cli, tmp_path: Path, inject: str, with_trigger_log: bool, exit_status: int
) -> None:
    spec = generate.Spec(events=3_000, inject=inject, inject_campaign=1, seed=21)
    data = tmp_path / "feedback.parquet"
    generate.write(data, spec, "parquet", "flat")
    extra: tuple[str, ...] = ()
    if with_trigger_log:
        generate.write_trigger_log(tmp_path / "triggers.csv", spec)
        extra = ("--trigger-log", str(tmp_path / "triggers.csv"))
    args = ("delays", str(data), *extra, "--output", "json")
    report = document(invoke(*args), exit_status)
    assert report["trigger_log"] is with_trigger_log
    verdicts = {g["verdict"] for g in report["groups"]}
    assert inject in verdicts if inject != "none" else verdicts == {"none"}


# --- diagnose/walk@1 -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("flags", "exit_status", "final"),
    [(("--fix", "--yes"), 0, "healthy"), ((), 1, "unhealthy")],
)
def test_walk_transcript(
    invoke: Cli, tmp_path: Path, flags: tuple[str, ...], exit_status: int, final: str
) -> None:
    transcript = tmp_path / "walk.json"
    args = ("runbook", "walk", "cosmosdb-auth-errors", "--lab", "sp-disabled", *flags)
    result = invoke(*args, "--no-input", "--wait", "5", "--transcript", str(transcript))
    assert result.exit_code == exit_status, result.stdout[-1500:]
    walked = validate_document(transcript.read_text(encoding="utf-8"))
    assert walked["final"] == final
    assert walked["fixes"][0]["applied"] is bool(flags)


# --- diagnose/catalogue@1, diagnose/runbook@1, the checks listing ---------------------------
def test_runbook_list(invoke: Cli) -> None:
    listed = document(invoke("runbook", "list", "--output", "json"), 0)
    assert {r["id"] for r in listed["runbooks"]} == set(catalogue.default().runbooks)


@pytest.mark.parametrize("runbook_id", sorted(catalogue.default().runbooks))
def test_runbook_show(invoke: Cli, runbook_id: str) -> None:
    shown = document(invoke("runbook", "show", runbook_id, "--output", "json"), 0)
    assert shown["id"] == runbook_id


def test_checks_listing(invoke: Cli) -> None:
    result = invoke("checks", "--output", "json")
    assert result.exit_code == 0, result.stderr
    listing = validate_document(result.stdout, schema_id="diagnose/checks@1")
    assert [c["id"] for c in listing["checks"]][0] == "principal.enabled"
