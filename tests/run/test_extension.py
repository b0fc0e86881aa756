"""A check of one's own, with a new cause and its runbook entry, joins diagnose without touching it.

The check comes from a plugin module on PYTHONPATH, registered through the
entry-point group `diagnose.checks` of a temporary dist-info; its runbook comes
from a temporary directory named in DIAGNOSE_RUNBOOKS. The real CLI is driven
against the lab: the check is scheduled after the shipped check it needs, listed
by `diagnose checks`, rendered in the run's text and JSON, and its cause is
resolved to its runbook step and remediation.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from diagnose import catalogue
from diagnose.checks.base import RunOptions
from tests.harness import CliResult, run_cli

PLUGIN = '''
"""A check that is not shipped: the key has a rotation policy (the lab's never does)."""

from diagnose.checks.base import Check, Context, Outcome, finding
from diagnose.checks.keyvault import KEY_USABLE


def check_rotation(ctx: Context) -> Outcome:
    ctx.fact(KEY_USABLE, "the key is not usable (see keyvault.key)")
    key = ctx.results["keyvault.key"]  # it needs keyvault.key: that result is there already
    evidence = {"key_check_status": str(key.status), "key": key.evidence.get("key")}
    message = f"the key {key.evidence.get('key')} has no rotation policy"
    return Outcome(message, [finding("demo.rotation-missing", message, **evidence)], evidence)


ROTATION = Check(
    id="demo.rotation",
    title="The key rotates itself before it expires",
    run=check_rotation,
    causes=("demo.rotation-missing",),
    needs=("keyvault.key",),
    consumes=(KEY_USABLE,),
    permissions=("Key Vault Crypto Officer (rotation policy read)",),
)
CYCLE = [
    Check(id="demo.one", title="one", run=check_rotation, needs=("demo.two",)),
    Check(id="demo.two", title="two", run=check_rotation, needs=("demo.one",)),
]
'''

RUNBOOK = """\
---
id: key-rotation
title: The key rotates itself
summary: A customer-managed key with a rotation policy never expires under Cosmos DB.
steps:
  - step: 1
    title: Give the key a rotation policy
    checks: [demo.rotation]
causes:
  - code: demo.rotation-missing
    step: 1
    severity: fail
    title: The key has no rotation policy
    remediation:
      - "Set a rotation policy that rotates the key 30 days before it expires."
      - "Cosmos DB follows the new version by itself (a versionless key URI)."
---

## Step 1

Give the key a rotation policy.
"""


def plugin_dir(root: Path, entry: str) -> Path:
    """A plugin module and a dist-info naming it in the `diagnose.checks` entry-point group."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "diagnose_demo_check.py").write_text(PLUGIN)
    dist = root / "diagnose_demo_check-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: diagnose-demo-check\nVersion: 0.1\n"
    )
    (dist / "entry_points.txt").write_text(f"[diagnose.checks]\n{entry}\n")
    return root


def runbook_dir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "key-rotation.md").write_text(RUNBOOK)
    return root


def diagnose(env: dict[str, str], *args: str) -> CliResult:
    """Plain text (NO_COLOR) so the tests can read the text report."""
    return run_cli(*args, env={"NO_COLOR": "1", **env})


@pytest.fixture
def extension(tmp_path: Path) -> dict[str, str]:
    return {
        "PYTHONPATH": str(
            plugin_dir(tmp_path / "plugin", "rotation = diagnose_demo_check:ROTATION")
        ),
        "DIAGNOSE_RUNBOOKS": str(runbook_dir(tmp_path / "runbooks")),
    }


def test_a_contributed_check_is_listed_by_diagnose_checks(extension: dict[str, str]) -> None:
    listed = diagnose(extension, "checks", "--output", "json").json()
    rows = {r["id"]: r for r in listed["checks"]}
    ids = [r["id"] for r in listed["checks"]]
    assert ids.index("demo.rotation") == len(ids) - 2  # after the chain, before the trigger
    row = rows["demo.rotation"]
    assert row["needs"] == ["keyvault.key"]
    assert row["causes"] == ["demo.rotation-missing"]
    assert row["proves"] == [{"runbook": "key-rotation", "step": 1}]
    assert "Key Vault Crypto Officer (rotation policy read)" in listed["least_privilege"]
    assert rows["campaign.trigger"]["needs"] == ["all above"]
    text = diagnose(extension, "checks").stdout
    assert "demo.rotation      The key rotates itself before it expires" in text
    assert "needs: keyvault.key; proves: key-rotation 1" in text
    assert "may find: demo.rotation-missing" in text


def test_a_contributed_check_runs_after_what_it_needs_and_its_cause_is_explained(
    lab, extension: dict[str, str]
) -> None:
    running = lab("healthy")
    env = {**running.env, **extension}
    proc = diagnose(env, "run", "--output", "json")
    assert proc.exit_code == 1, proc.stderr
    report = proc.json()
    checks = {c["id"]: c for c in report["checks"]}
    ids = list(checks)
    assert ids.index("keyvault.key") < ids.index("demo.rotation") < ids.index("campaign.trigger")
    mine = checks["demo.rotation"]
    assert mine["status"] == "fail"
    assert mine["evidence"]["key_check_status"] == "pass"  # keyvault.key had finished first
    (entry,) = report["diagnosis"]  # the healthy lab's only problem is the new one
    assert entry["code"] == "demo.rotation-missing"
    assert entry["runbook"] == {"id": "key-rotation", "step": 1}
    assert entry["remediation"][0].startswith("Set a rotation policy")
    assert entry["checks"] == ["demo.rotation"]

    text = diagnose(env, "run")
    assert text.exit_code == 1, text.stderr
    assert "demo.rotation" in text.stdout and "has no rotation policy" in text.stdout
    assert "The key has no rotation policy  [demo.rotation-missing]" in text.stdout
    assert "Runbook key-rotation, step 1: Give the key a rotation policy" in text.stdout
    assert "-> Cosmos DB follows the new version by itself" in text.stdout

    only = diagnose(env, "run", "--only", "demo.rotation", "--output", "json").json()
    assert [c["id"] for c in only["checks"]] == ["keyvault.key", "demo.rotation"]
    skipped = diagnose(
        env,
        "run",
        "--only",
        "demo.rotation,keyvault.vault",
        "--skip",
        "keyvault.key",
        "--output",
        "json",
    ).json()
    mine = next(c for c in skipped["checks"] if c["id"] == "demo.rotation")
    assert mine["status"] == "skip" and mine["summary"] == "needs keyvault.key, which was skipped"


def test_its_cause_resolves_from_the_catalogue_with_the_extra_directory(tmp_path: Path) -> None:
    cat = catalogue.load(extra=[runbook_dir(tmp_path)])
    cause = cat.cause("demo.rotation-missing")
    step = cat.runbook(cause.runbook).step(cause.step or 0)
    assert step is not None and step.title == "Give the key a rotation policy"
    assert step.checks == ("demo.rotation",)
    assert cause.remediation[1].startswith("Cosmos DB follows")


def test_without_its_runbook_the_run_refuses_to_start(lab, extension: dict[str, str]) -> None:
    env = {**lab("healthy").env, "PYTHONPATH": extension["PYTHONPATH"]}
    proc = diagnose(env, "run")
    assert proc.exit_code == 2
    assert (
        "demo.rotation declares cause(s) no runbook defines: demo.rotation-missing" in proc.stderr
    )
    assert "Traceback" not in proc.stderr


def test_a_contributed_cycle_is_refused_at_start_up(lab, tmp_path: Path) -> None:
    env = {
        **lab("healthy").env,
        "PYTHONPATH": str(plugin_dir(tmp_path, "cycle = diagnose_demo_check:CYCLE")),
    }
    for args in (["run", "--timeout", "600"], ["checks"]):
        proc = diagnose(env, *args)
        assert proc.exit_code == 2, proc.stderr
        assert "the checks' needs form a cycle" in proc.stderr
        assert "demo.one" in proc.stderr and "demo.two" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_extra_checks_join_the_run_in_process(tmp_path: Path, lab_environ, monkeypatch) -> None:
    """The same without a plugin: a check handed to the run use case as `extra_checks`."""
    from diagnose import profile as profiles
    from diagnose.checks.base import Check, Context, Outcome, finding
    from diagnose.usecases.run import run_checks

    def mine(ctx: Context) -> Outcome:
        vault = ctx.results["keyvault.vault"].evidence["name"]
        return Outcome("no policy", [finding("demo.rotation-missing", f"{vault}: no policy")])

    extra = Check(
        "demo.inline", "inline", mine, causes=("demo.rotation-missing",), needs=("keyvault.vault",)
    )
    lab_environ("healthy")
    monkeypatch.setenv("DIAGNOSE_RUNBOOKS", str(runbook_dir(tmp_path)))
    profile = profiles.load(dict(os.environ), config=None, name=None, cwd=Path("/nonexistent"))
    report = run_checks(profile, RunOptions(), only=["demo.inline"], extra_checks=[extra])
    assert [c.id for c in report.checks] == ["keyvault.vault", "demo.inline"]
    (entry,) = report.diagnosis
    assert entry.code == "demo.rotation-missing" and entry.step.runbook == "key-rotation"
    assert entry.message.endswith(": no policy") and int(report.exit_status) == 1
