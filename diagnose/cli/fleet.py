"""`diagnose run --all` and its flags: the fleet found by Resource Graph, checked in one run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from diagnose.cli.options import open_profile
from diagnose.errors import InputError
from diagnose.model import Severity

if TYPE_CHECKING:
    from diagnose.fleet.schedule import AccountRun
    from diagnose.usecases.run import RunReport

F = TypeVar("F", bound=Callable[..., Any])
NARROWING = ("subscription", "management_group", "resource_group", "tag")


def fleet_options(func: F) -> F:
    """--all and the flags that narrow it or shape its gate (in this order in --help)."""
    options = [
        click.option(
            "--all",
            "all_accounts",
            is_flag=True,
            help="Check every Cosmos DB account with a customer-managed key that Azure Resource "
            "Graph finds (the account-level chain on each; see docs/design.md).",
        ),
        click.option(
            "--subscription",
            multiple=True,
            metavar="ID",
            help="With --all: only this subscription (repeatable).",
        ),
        click.option(
            "--management-group",
            multiple=True,
            metavar="NAME",
            help="With --all: only the subscriptions below this management group.",
        ),
        click.option(
            "--resource-group",
            multiple=True,
            metavar="NAME",
            help="With --all: only accounts in this resource group (repeatable).",
        ),
        click.option(
            "--tag",
            multiple=True,
            metavar="KEY=VALUE",
            help="With --all: only accounts with this tag (repeatable: all must match).",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(1, 256),
            default=16,
            show_default=True,
            help="With --all: accounts checked at once.",
        ),
        click.option(
            "--baseline",
            type=click.Path(dir_okay=False, path_type=Path),
            metavar="FILE",
            help="Accept the findings this JSON file lists until they expire; fail only on new ones.",
        ),
        click.option(
            "--write-baseline",
            type=click.Path(dir_okay=False, path_type=Path),
            metavar="FILE",
            help="Write the current findings to FILE as a starting baseline.",
        ),
        click.option(
            "--horizon",
            metavar="SPAN",
            help="Also warn of what will need action within SPAN (30d, 12h): a key version that "
            "expires with no rotation policy, a secret or certificate of the diagnosing identity "
            "or of an application-backed CMK principal that ends.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def wanted(flags: dict[str, Any], *, only: str | None, skip: str | None, trigger: bool) -> bool:
    """Whether the run is a fleet run; a flag that narrows the fleet without --all, or --all with a
    flag of one profile's run (the check selection, the campaign call), is a usage error.
    --baseline, --write-baseline and --horizon are the gate's: with or without --all."""
    used = [name for name in NARROWING if flags.get(name)]
    if used and not flags.get("all_accounts"):
        names = ", ".join("--" + n.replace("_", "-") for n in used)
        raise click.UsageError(f"{names} need(s) --all")
    if flags.get("all_accounts"):
        single = [f for f, v in (("--only", only), ("--skip", skip), ("--trigger", trigger)) if v]
        if single:
            raise click.UsageError(
                f"--all runs the account-level chain on each account: {', '.join(single)} "
                "belong(s) to one profile's run"
            )
    return bool(flags.get("all_accounts"))


def _tags(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for value in values:
        key, sep, tag_value = value.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--tag {value!r} is not KEY=VALUE")
        out.append((key.strip(), tag_value))
    return tuple(out)


def run_all(
    ctx: click.Context,
    config: Path | None,
    profile_name: str | None,
    lab_scenario: str | None,
    output: str,
    out: Path | None,
    timeout: float | None,
    fail_on: str,
    flags: dict[str, Any],
) -> None:
    from diagnose.fleet import baseline as baselines
    from diagnose.fleet.horizon import parse as parse_horizon
    from diagnose.fleet.inventory import Scope
    from diagnose.render.choose import FLEET, emit, styler
    from diagnose.render.style import Styler
    from diagnose.usecases.fleet import run_fleet

    scope = Scope(
        tuple(flags.get("subscription") or ()),
        tuple(flags.get("management_group") or ()),
        tuple(flags.get("resource_group") or ()),
        _tags(tuple(flags.get("tag") or ())),
    )
    baseline = baselines.load(flags["baseline"]) if flags.get("baseline") else None
    horizon = parse_horizon(flags["horizon"]) if flags.get("horizon") else None
    progress = FleetProgress(Severity(fail_on))
    with open_profile(config, profile_name, lab_scenario) as profile, progress.live:
        report = run_fleet(
            profile,
            scope,
            concurrency=int(flags.get("concurrency") or 16),
            budget_s=timeout,
            fail_on=Severity(fail_on),
            baseline=baseline,
            write_baseline=flags.get("write_baseline"),
            horizon=horizon,
            on_inventory=progress.found,
            on_account=progress.decided,
        )
    if output == "text":
        emit(FLEET("text")(report, styler("text")))
    if out or output != "text":
        emit(FLEET(output)(report, Styler(False)), out)
    ctx.exit(int(report.exit_status))


def gate(flags: dict[str, Any]) -> Callable[[RunReport], RunReport]:
    """What one account's run does to its report for --baseline, --write-baseline and --horizon
    (the file and the span read first: a bad one is exit 2 before anything runs)."""
    from diagnose.fleet import baseline as baselines
    from diagnose.fleet import gate as gates
    from diagnose.fleet.horizon import parse as parse_horizon

    if not any(flags.get(k) for k in ("baseline", "write_baseline", "horizon")):
        return lambda report: report
    baseline = baselines.load(flags["baseline"]) if flags.get("baseline") else None
    horizon = parse_horizon(flags["horizon"]) if flags.get("horizon") else None
    return lambda report: gates.apply(
        report, baseline=baseline, write_baseline=flags.get("write_baseline"), horizon=horizon
    )


class FleetProgress:
    """What a terminal shows while the fleet runs: accounts decided of those found, on stderr,
    only on a terminal (diagnose/progress.py), erased before the report is printed."""

    def __init__(self, fail_on: Severity) -> None:
        from diagnose import progress

        self.fail_on = fail_on
        self.total: int | None = None
        self.done = self.failing = self.undecided = 0
        self._lock = threading.Lock()
        self.live = progress.Live(self.render, delay_s=0.0)

    def found(self, total: int) -> None:
        self.total = total
        self.live.refresh()

    def decided(self, run: AccountRun) -> None:
        from datetime import UTC, datetime

        from diagnose.usecases.fleet import judge

        # the account's verdict before any baseline is applied ("with findings")
        status = judge(run, None, self.fail_on, datetime.now(UTC).date()).status
        with self._lock:
            self.done += 1
            self.failing += status == "failing"
            self.undecided += status == "undecided"
        self.live.refresh()

    def render(self) -> list[str]:
        from diagnose import progress

        spin, elapsed = self.live.spinner(), progress.seconds(self.live.elapsed_s)
        if self.total is None:
            return [f"{spin} finding the accounts through Azure Resource Graph, {elapsed}"]
        with self._lock:
            done, failing, undecided = self.done, self.failing, self.undecided
        return [
            f"{spin} {done} of {self.total} accounts decided ({failing} with findings, "
            f"{undecided} undecided), {elapsed}"
        ]
