"""`diagnose lab scenarios` and `diagnose lab serve`: the local stand-in for Azure and Adobe."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from diagnose.cli.options import complete_scenarios, finite_number
from diagnose.errors import InputError

if TYPE_CHECKING:
    from diagnose.lab import Lab
    from diagnose.lab.world import World

# The admin identity (docs/lab.md "The world": the on-call engineer who runs the printed fixes),
# written to `--env-out` under its own names, beside the diagnosing identity's AZURE_CLIENT_*.
# diagnose never reads them; the secret's name ends in _SECRET, so diagnose.redact masks its
# value wherever it would appear.
ADMIN_CLIENT_ID = "DIAGNOSE_LAB_ADMIN_CLIENT_ID"
ADMIN_CLIENT_SECRET = "DIAGNOSE_LAB_ADMIN_CLIENT_SECRET"
ADMIN_LOGIN = (
    f'az login --service-principal -u "${ADMIN_CLIENT_ID}" '
    f'--password="${ADMIN_CLIENT_SECRET}" --tenant "$AZURE_TENANT_ID"'
)


def admin_env(world: World) -> dict[str, str]:
    """The admin identity's client id and secret, by the names the env file gives them."""
    return {ADMIN_CLIENT_ID: world.admin.app_id, ADMIN_CLIENT_SECRET: world.admin.secrets[0].value}


@click.group(
    epilog="""\b
Examples:
  diagnose lab scenarios
  diagnose lab serve --scenario kv-firewall --env-out lab.env
  diagnose run --lab kv-firewall          the lab in process, for one run
"""
)
def lab() -> None:
    """The local stand-in for Entra ID, Graph, ARM, Key Vault, Cosmos DB, Adobe IMS and AJO."""


@lab.command(epilog="Example:\n\n  diagnose lab scenarios")
def scenarios() -> None:
    """List the scenarios: name and what is broken."""
    from diagnose.lab.scenarios import SCENARIOS

    width = max(len(name) for name in SCENARIOS)
    for name, description in SCENARIOS.items():
        click.echo(f"{name:<{width}}  {description}")


def _writable(path: str | None, option: str) -> Path | None:
    if path is None:
        return None
    target = Path(path)
    if not target.parent.is_dir():
        raise InputError(f"{option}: folder {str(target.parent)!r} does not exist")
    return target


@lab.command(
    epilog="""\b
Examples:
  diagnose lab serve --scenario kv-role-missing --env-out lab.env
  source lab.env && diagnose run        (in another shell)
"""
)
@click.option(
    "--scenario",
    "scenario",
    default="healthy",
    show_default=True,
    metavar="S",
    shell_complete=complete_scenarios,
    help="What is broken (see `diagnose lab scenarios`).",
)
@click.option(
    "--env-out",
    metavar="FILE",
    help="Write the profile as `export NAME='value'` lines, once every service listens; "
    "the admin identity that runs fixes as DIAGNOSE_LAB_ADMIN_CLIENT_ID/SECRET.",
)
@click.option(
    "--profile-out", metavar="FILE", help="Write the same values as a profile file (no secrets)."
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    callback=finite_number,
    default=0,
    show_default=True,
    help="Delay added to every response.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="SPEC",
    help="A fault between the tool and a service, SERVICE:KIND[:COUNT][@PATH_REGEX] "
    "(repeatable; see docs/lab.md, Faults).",
)
def serve(
    scenario: str,
    env_out: str | None,
    profile_out: str | None,
    latency_ms: float,
    faults: tuple[str, ...],
) -> None:
    """Serve the lab in the foreground until interrupted (Ctrl-C or SIGTERM exits 0)."""
    from diagnose.lab import Lab
    from diagnose.lab.faults import parse_fault

    specs = [parse_fault(spec) for spec in faults]  # a bad spec: exit 2 before anything starts

    env_path, profile_path = (
        _writable(env_out, "--env-out"),
        _writable(profile_out, "--profile-out"),
    )
    stop = threading.Event()
    written: list[Path] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Lab(scenario, latency_ms=latency_ms, faults=specs) as running:
            written += _write(_env_writer(running), env_path, "--env-out")
            written += _write(running.write_profile, profile_path, "--profile-out")
            _banner(running, scenario, env_path, profile_path)
            while not stop.wait(0.5):
                pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        # The files name the lab's CA bundle, gone with the lab: a stale env file would break
        # pip and az in a shell that sources it.
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
    click.echo("lab stopped (its env and profile files removed)", err=True)


def _env_writer(running: Lab) -> Callable[[Path], None]:
    """The env file: the lab's profile and the diagnosing identity, then the admin identity."""
    from diagnose.lab.envfile import write_env

    world = running.world
    assert world is not None  # a started lab has its world
    return lambda path: write_env(path, {**running.env, **admin_env(world)})


def _write(writer: Callable[[Path], None], path: Path | None, option: str) -> list[Path]:
    """The file written (as a list, to add to what stop() removes)."""
    if path is None:
        return []
    try:
        writer(path)
    except OSError as exc:
        raise InputError(f"{option}: cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    return [path]


def _banner(running: Lab, scenario: str, env_path: Path | None, profile_path: Path | None) -> None:
    """Addresses, scenario and how to use it, on stderr (never a secret)."""
    urls = running.urls
    click.echo(
        f"diagnose lab: scenario {scenario!r}, propagation {running.propagation_s:g} s", err=True
    )
    for name, url in urls.items():
        click.echo(f"  {name:<9} {url}", err=True)
    for fault in running.faults.specs:
        click.echo(f"  fault     {fault.spec}", err=True)
    click.echo(f"  CA bundle {running.ca_bundle}", err=True)
    if env_path:
        click.echo(f"In another shell: source {env_path}   (then: diagnose run)", err=True)
        click.echo(
            f"To run the printed az fixes, sign in as the admin identity ({ADMIN_CLIENT_ID}, "
            f"{ADMIN_CLIENT_SECRET} in {env_path}; docs/lab.md, Rehearsing with the Azure CLI):"
            f"\n  {ADMIN_LOGIN}",
            err=True,
        )
    if profile_path:
        click.echo(
            f"Profile file: {profile_path} (identifiers only; credentials come from the env file)",
            err=True,
        )
    if not env_path and not profile_path:
        click.echo(
            "Tip: --env-out FILE writes the variables to `source` in another shell.", err=True
        )
    click.echo("Ctrl-C to stop.", err=True)
