"""Shared fixtures: `lab` starts the local stand-in for Azure and Adobe in process; `cli` runs diagnose."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from diagnose.lab import Lab
from tests.harness import Cli

LabFactory = Callable[..., Lab]


@pytest.fixture
def lab() -> Iterator[LabFactory]:
    """Factory: `lab("sp-disabled", latency_ms=0)` -> a started Lab (propagation 0.05 s).

    Every lab started through it is stopped at teardown.
    """
    started: list[Lab] = []

    def start(scenario: str = "healthy", latency_ms: float = 0, propagation_s: float = 0.05) -> Lab:
        instance = Lab(scenario, latency_ms=latency_ms, propagation_s=propagation_s).start()
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()


@pytest.fixture
def cli() -> Cli:
    """The real CLI as a subprocess (tests/harness.py), with variables fixtures add to `cli.env`."""
    return Cli()


@pytest.fixture
def lab_environ(lab: LabFactory, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> LabFactory:
    """Factory: start a lab and give its whole profile (`lab.env`) to `cli` and to os.environ."""

    def start(scenario: str = "healthy", **kwargs: float) -> Lab:
        instance = lab(scenario, **kwargs)
        cli.env.update(instance.env)
        for name, value in instance.env.items():  # for what the test itself runs in process
            monkeypatch.setenv(name, value)
        return instance

    return start
