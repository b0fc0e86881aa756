"""Lab tests: the Cosmos SDK reads its CA bundle from REQUESTS_CA_BUNDLE, set per test."""

from __future__ import annotations

import logging

import pytest

from diagnose.lab import Lab
from tests.conftest import LabFactory
from tests.lab.sdk import StartLab


@pytest.fixture(autouse=True)
def _quiet_sdk_logs() -> None:
    logging.getLogger("azure").setLevel(logging.ERROR)


@pytest.fixture
def ca_env(monkeypatch: pytest.MonkeyPatch):
    """Call with a lab to point REQUESTS_CA_BUNDLE at its bundle (what Cosmos needs)."""

    def apply(lab):  # noqa: ANN001, ANN202
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", lab.ca_bundle)
        monkeypatch.setenv("AZURE_COSMOS_HEALTH_CHECK_MAX_RETRIES", "0")
        return lab

    return apply


@pytest.fixture
def faulty(lab: LabFactory) -> StartLab:
    """Factory: `faulty("arm:503")` -> a started healthy lab with those faults (the root `lab`
    fixture stops it at teardown)."""

    def start(*specs: str, scenario: str = "healthy") -> Lab:
        return lab(scenario, faults=specs)

    return start
