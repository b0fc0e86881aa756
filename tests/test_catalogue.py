"""Catalogue integrity: causes point at real steps, steps at real checks, signatures at real samples."""

from __future__ import annotations

import pytest
from triage.samples import SAMPLES

from diagnose.catalogue import CatalogueError, load
from diagnose.checks import shipped
from diagnose.triage.correlate import SERVER_ERROR, UNEXPLAINED
from diagnose.triage.signatures import compile_catalogue, compile_signature

# docs/design.md, "Check ids (contract)": the one literal list of them, pinning the contract.
CHECK_IDS = {
    "principal.enabled",
    "roles.keyvault",
    "roles.cosmos",
    "keyvault.vault",
    "keyvault.key",
    "keyvault.unwrap",
    "cosmos.cmk",
    "cosmos.token",
    "cosmos.dataplane",
    "adobe.byok",
    "campaign.window",
    "campaign.endpoint",
    "campaign.trigger",
}

CATALOGUE = load()


def test_the_shipped_checks_are_the_contract_ids() -> None:
    assert {c.id for c in shipped()} == CHECK_IDS


@pytest.mark.parametrize("code", sorted(CATALOGUE.causes))
def test_every_cause_points_at_a_step_that_exists(code: str) -> None:
    cause = CATALOGUE.causes[code]
    runbook = CATALOGUE.runbook(cause.runbook)
    assert cause.step is not None, f"{code} has no step"
    assert runbook.step(cause.step) is not None, f"{code}: {runbook.id} has no step {cause.step}"
    assert cause.remediation, f"{code} says nothing about what to do"


@pytest.mark.parametrize("runbook_id", sorted(CATALOGUE.runbooks))
def test_steps_name_only_known_checks(runbook_id: str) -> None:
    for step in CATALOGUE.runbook(runbook_id).steps:
        unknown = set(step.checks) - {c.id for c in shipped()}
        assert not unknown, f"{runbook_id} step {step.number} names unknown checks {unknown}"


def test_every_signature_compiles_with_anchors() -> None:
    signatures = compile_catalogue(CATALOGUE)
    assert len(signatures) >= 80
    assert all(s.anchors for s in signatures)


def test_every_cause_with_signatures_has_samples() -> None:
    """The real coverage (each signature recognised in each framing) is in tests/triage/test_signatures.py."""
    missing = sorted(
        c.code for c in CATALOGUE.causes.values() if c.signatures and c.code not in SAMPLES
    )
    assert not missing, f"add realistic text for these causes to tests/triage/samples.py: {missing}"
    unknown = sorted(set(SAMPLES) - set(CATALOGUE.causes))
    assert not unknown, f"samples for causes the catalogue does not have: {unknown}"


def test_correlation_causes_exist() -> None:
    assert CATALOGUE.cause(SERVER_ERROR).runbook == "cosmosdb-auth-errors"
    unexplained = CATALOGUE.cause(UNEXPLAINED)
    assert str(unexplained.severity) == "warn" and not unexplained.signatures


@pytest.mark.parametrize(
    "spec",
    [
        {"status": 403, "substatus": 4000, "colour": "red"},  # unknown key
        {"regex": "(unclosed"},  # invalid regex
        {"regex": "timed out after"},  # a regex alone needs anchors
        {},
    ],
)
def test_a_malformed_signature_is_named_clearly(spec: dict) -> None:
    with pytest.raises(CatalogueError, match="cause x.y"):
        compile_signature(spec, "demo.md: cause x.y, signature 1")


def test_a_remediation_line_that_yaml_reads_as_a_mapping_is_refused(tmp_path) -> None:
    import pytest

    from diagnose.catalogue import CatalogueError, load

    (tmp_path / "broken.md").write_text(
        "---\nid: broken\ntitle: t\nsteps:\n  - {step: 1, title: s}\ncauses:\n"
        "  - code: x.y\n    step: 1\n    title: t\n    remediation:\n"
        "      - Do not resend: the service retries\n---\n\n## Step 1\n\ntext\n"
    )
    with pytest.raises(CatalogueError, match="every remediation line must be a string"):
        load(tmp_path)


RUNBOOK = (
    "---\nid: {id}\ntitle: T\nsteps:\n  - {{step: 1, title: s}}\ncauses:\n"
    "  - code: {code}\n    step: 1\n    title: t\n    remediation:\n      - do it\n---\n\n## Step 1\n\ntext\n"
)


def test_an_extra_runbook_directory_joins_the_shipped_one(tmp_path, monkeypatch) -> None:
    from diagnose import catalogue

    (tmp_path / "extra.md").write_text(RUNBOOK.format(id="extra", code="extra.cause"))
    cat = load(extra=[tmp_path])
    assert cat.cause("extra.cause").ref.runbook == "extra"
    assert set(CATALOGUE.causes) < set(cat.causes)
    assert cat.version == CATALOGUE.version
    monkeypatch.setenv("DIAGNOSE_RUNBOOKS", str(tmp_path))
    assert catalogue.default().cause("extra.cause").remediation == ("do it",)
    monkeypatch.delenv("DIAGNOSE_RUNBOOKS")
    assert "extra.cause" not in catalogue.default().causes


def test_an_extra_directory_may_not_redefine_a_cause_or_a_runbook(tmp_path) -> None:
    (tmp_path / "clash.md").write_text(RUNBOOK.format(id="clash", code="principal.disabled"))
    with pytest.raises(CatalogueError, match="principal.disabled is defined twice"):
        load(extra=[tmp_path])
    other = tmp_path / "other"
    other.mkdir()
    (other / "payload.md").write_text(RUNBOOK.format(id="payload", code="new.code"))
    with pytest.raises(CatalogueError, match="runbook payload is defined twice"):
        load(extra=[other])
    with pytest.raises(CatalogueError, match="does not exist"):
        load(extra=[tmp_path / "missing"])
