"""docs/ci/: the GitHub Actions workflow and the Azure Pipelines file hold the keys a secretless
gate needs, and every `diagnose` flag they pass exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.harness import run_cli

CI = Path(__file__).resolve().parents[2] / "docs" / "ci"


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((CI / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def commands(text: str) -> list[str]:
    return [m.group(0) for m in re.finditer(r"diagnose run [^\n|&]*", text)]


def test_github_actions_federates_uploads_sarif_and_keeps_junit() -> None:
    workflow = load("github-actions.yml")
    assert workflow["permissions"]["id-token"] == "write"
    assert workflow["permissions"]["security-events"] == "write"
    job = workflow["jobs"]["diagnose"]
    assert job["env"]["AZURE_TOKEN_CREDENTIALS"] == "WorkloadIdentityCredential"
    assert "AZURE_CLIENT_SECRET" not in (CI / "github-actions.yml").read_text()
    steps = job["steps"]
    scripts = "\n".join(str(s.get("run", "")) for s in steps)
    assert "audience=api://AzureADTokenExchange" in scripts
    assert "AZURE_FEDERATED_TOKEN_FILE=" in scripts
    upload = next(
        s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")
    )
    assert upload["with"]["sarif_file"] == "diagnose.sarif" and upload["if"] == "always()"
    sarif = next(c for c in commands(scripts) if "--output sarif" in c)
    assert "--out diagnose.sarif" in sarif and "--all" in sarif
    assert any("--output junit" in c for c in commands(scripts))
    assert any(str(s.get("uses", "")).startswith("actions/upload-artifact@") for s in steps)
    # GitHub's OIDC token lasts 5 minutes: every step that runs diagnose fetches a fresh one first
    runs = [str(s["run"]) for s in steps if "diagnose run" in str(s.get("run", ""))]
    assert len(runs) == 2
    for run in runs:
        assert run.index('bash "$RUNNER_TEMP/federate.sh"') < run.index("diagnose run"), run
    assert '> "$AZURE_FEDERATED_TOKEN_FILE"' in scripts
    for step in steps:  # every script parses as bash
        if "run" in step:
            parsed = subprocess.run(["bash", "-n"], input=str(step["run"]), text=True)
            assert parsed.returncode == 0, step["run"]


def test_azure_pipelines_uses_a_federated_connection_and_publishes_junit() -> None:
    pipeline = load("azure-pipelines.yml")
    steps = pipeline["steps"]
    cli = next(s for s in steps if s.get("task") == "AzureCLI@2")
    inputs = cli["inputs"]
    assert inputs["azureSubscription"] and inputs["addSpnToEnvironment"] is True
    script = inputs["inlineScript"]
    assert "AZURE_FEDERATED_TOKEN_FILE" in script and "$idToken" in script
    assert any("--output junit" in c for c in commands(script))
    publish = next(s for s in steps if s.get("task") == "PublishTestResults@2")
    assert publish["inputs"]["testResultsFormat"] == "JUnit"
    assert publish["condition"] == "always()"
    out = re.search(r"--out \"?([^\s\"]+)", script)
    assert out and publish["inputs"]["testResultsFiles"] == out.group(1)


def test_every_flag_the_ci_files_pass_exists() -> None:
    help_text = run_cli("run", "--help").stdout
    for name in ("github-actions.yml", "azure-pipelines.yml"):
        for command in commands((CI / name).read_text()):
            for flag in re.findall(r"(?<=\s)--[a-z][a-z-]*", command):
                assert flag in help_text, f"{name}: {flag} is not a flag of diagnose run"
