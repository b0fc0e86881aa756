"""Log Analytics under the lab's fault layer: its two sources become limitations, said as what
happened, and the other sources still answer; a transient fault is retried away."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Cli
from tests.timeline.test_timeline import SCENARIOS, timeline

LOGS = {"key-vault-logs", "cosmos-logs"}


def _sources(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in doc["sources"]}


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("loganalytics:503", "503"),
        ("loganalytics:500", "500"),
        ("loganalytics:html-error", "answered 403 with a body that is not JSON"),
        ("loganalytics:gateway-404", "answered 404 with no error of its own"),
        ("loganalytics:empty-200", "answered 200 with a body that is not JSON"),
    ],
)
def test_log_analytics_failing_is_its_sources_limitation_and_the_others_answer(
    lab, cli: Cli, fault: str, said: str
) -> None:
    running = lab("sp-disabled", faults=[fault])
    code, doc = timeline(cli, env=running.env)
    sources = _sources(doc)
    limited = {name for name, s in sources.items() if s["limitation"]}
    assert limited == LOGS, {n: s["limitation"] for n, s in sources.items()}
    for name in LOGS:
        reason = sources[name]["limitation"]["reason"]
        assert said in reason and "Log Analytics" in reason, reason
        # a gateway's 403 page is not the service's refusal: no missing right is claimed
        assert sources[name]["limitation"]["permission"] is None
    # the change is still found, by its own source; with no failure readable, nothing is blamed
    source, names = SCENARIOS["sp-disabled"]
    changes = [e for e in doc["events"] if e["source"] == source]
    assert any(names in e["operation"] + " " + e["detail"] for e in changes), doc["events"]
    assert code == 3 and doc["first_failure"] is None and doc["blamed"] is None


def test_a_transient_log_analytics_fault_is_retried_and_the_story_is_whole(lab, cli: Cli) -> None:
    running = lab("sp-disabled", faults=["loganalytics:503:2"])
    code, doc = timeline(cli, env=running.env)
    assert not [s for s in doc["sources"] if s["limitation"]], doc["sources"]
    assert code == 1 and doc["blamed"]["source"] == SCENARIOS["sp-disabled"][0]
    assert doc["first_failure"]["source"] in LOGS


@pytest.mark.parametrize(
    ("fault", "limited"),
    [
        ("graph:html-error", {"entra-audit"}),
        ("graph:503", {"entra-audit"}),
        ("arm:html-error", {"activity-log", "resource-changes"}),
        ("arm:502", {"activity-log", "resource-changes"}),
    ],
)
def test_a_failing_service_limits_only_its_own_sources_and_claims_no_missing_right(
    lab, cli: Cli, fault: str, limited: set[str]
) -> None:
    running = lab("kv-firewall", faults=[fault])
    code, doc = timeline(cli, env=running.env)
    sources = _sources(doc)
    assert {n for n, s in sources.items() if s["limitation"]} == limited, doc["sources"]
    assert all(sources[n]["limitation"]["permission"] is None for n in limited)
    assert doc["first_failure"] is not None  # Log Analytics still answered
    assert code == 1


def test_a_credential_without_a_token_is_said_so_by_the_log_sources_not_a_status(
    lab, cli: Cli
) -> None:
    """Entra ID failing: Log Analytics is never reached, so its sources say there was no token,
    not that the service refused or did not answer."""
    running = lab("sp-disabled", faults=["entra:503"])
    code, doc = timeline(cli, env=running.env)
    sources = _sources(doc)
    for name in LOGS:
        reason = sources[name]["limitation"]["reason"]
        assert reason.startswith("no token for Log Analytics"), reason
        assert sources[name]["limitation"]["permission"] is None
    assert code == 3 and doc["events"] == []
