"""Shared fixtures: `lab` starts the local stand-in for Azure and Adobe in process; `cli` runs diagnose."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from diagnose.lab import Lab
from tests.guard import diagnose_test_guard as guard
from tests.harness import GUARD_LOG, Cli, guard_environ

# Tests never leave the machine: the guard is on from collection on, in this process and (through
# PYTHONPATH, also for subprocesses started without `clean_environ`) in every Python it starts.
guard.install()
os.environ.update(guard_environ(os.environ))


def pytest_unconfigure(config: pytest.Config) -> None:
    GUARD_LOG.path.unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _off_loopback_guard() -> Iterator[None]:
    """Fail the test that connected (or made a subprocess connect) to anything but loopback."""
    guard.take_refused()
    GUARD_LOG.new_lines()  # not this test's
    yield
    refused = guard.take_refused()
    if refused:
        pytest.fail("the test tried to leave the machine:\n" + "\n".join(refused), pytrace=False)
    GUARD_LOG.fail_on_refusals("a process this test started")


LabFactory = Callable[..., Lab]


@pytest.fixture
def lab() -> Iterator[LabFactory]:
    """Factory: `lab("sp-disabled", latency_ms=0, faults=["arm:503"])` -> a started Lab
    (propagation 0.05 s; faults: specs of diagnose/lab/faults.py).

    Every lab started through it is stopped at teardown.
    """
    started: list[Lab] = []

    def start(
        scenario: str = "healthy",
        latency_ms: float = 0,
        propagation_s: float = 0.05,
        faults: Sequence[str] = (),
    ) -> Lab:
        instance = Lab(
            scenario, latency_ms=latency_ms, propagation_s=propagation_s, faults=faults
        ).start()
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


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built once as a wheel (pip, no isolation: the venv's hatchling), for the tests
    of what it ships."""
    dist = tmp_path_factory.mktemp("dist")
    root = Path(__file__).resolve().parents[1]
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(dist), str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (built_wheel,) = dist.glob("diagnose-*.whl")
    return built_wheel
