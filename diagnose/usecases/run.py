"""The main job: run the check chain against a profile and turn the results into a report."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from diagnose import __version__, catalogue, diagnosis
from diagnose.checks import all_checks, check_ids
from diagnose.checks.base import Check, Context, RunOptions
from diagnose.errors import InputError
from diagnose.exitstatus import ExitStatus, decide
from diagnose.model import CheckResult, DiagnosisEntry, Severity, Status
from diagnose.profile import Profile
from diagnose.runner import run

SCHEMA = "diagnose/report@1"


@dataclass
class RunReport:
    profile: Profile
    started_at: datetime
    duration_ms: int
    checks: list[CheckResult]
    diagnosis: list[DiagnosisEntry]
    catalogue_version: str
    version: str = __version__
    fail_on: Severity = Severity.FAIL
    schema: str = field(default=SCHEMA)

    @property
    def limitations(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status is Status.ERROR]

    @property
    def status(self) -> str:
        severities = [f.severity for c in self.checks for f in c.findings]
        if Severity.FAIL in severities:
            return "fail"
        if Severity.WARN in severities:
            return "warn"
        if self.limitations:
            return "error"
        return "pass"

    @property
    def exit_status(self) -> ExitStatus:
        return decide(
            (f.severity for c in self.checks for f in c.findings),
            undecided=bool(self.limitations),
            fail_on=self.fail_on,
        )


def select(checks: list[Check], only: list[str], skip: list[str]) -> list[Check]:
    known = {c.id for c in checks}
    unknown = [i for i in [*only, *skip] if i not in known]
    if unknown:
        raise InputError(f"unknown check id(s): {', '.join(unknown)} (see `diagnose checks`)")
    chosen = [c for c in checks if (not only or c.id in only) and c.id not in skip]
    if not chosen:
        raise InputError("--only/--skip leave no check to run")
    return chosen


def _prewarm(ctx: Context, checks: list[Check]) -> None:
    """Start the reads every run needs (tokens, the Key Vault key) at once, so they overlap."""
    if not any(c.uses_azure for c in checks):
        return
    cloud = ctx.profile.cloud
    scopes = [f"{cloud.arm_url.rstrip('/')}/.default", f"{cloud.graph_url.rstrip('/')}/.default"]
    vault_suffix = cloud.keyvault_suffix or "vault.azure.net"
    scopes.append(f"https://{vault_suffix}/.default")
    if ctx.profile.topology == "own" and ctx.profile.cosmos_token_scope:
        scopes.append(ctx.profile.cosmos_token_scope)

    def warm(scope: str) -> None:
        with contextlib.suppress(Exception):  # the checks report credential problems themselves
            ctx.credential.get_token(scope)

    for scope in scopes:
        threading.Thread(target=warm, args=(scope,), daemon=True, name=f"token:{scope}").start()
    if any(c.id == "keyvault.unwrap" for c in checks) and ctx.profile.key_id:
        # The Key Vault challenge and key read overlap with the ARM reads keyvault.unwrap waits for.
        from diagnose.checks.keyvault import data_plane_key

        def read_key() -> None:
            with contextlib.suppress(Exception):  # keyvault.unwrap reports it, if it still runs
                data_plane_key(ctx)

        threading.Thread(target=read_key, daemon=True, name="keyvault:get_key").start()


def run_checks(
    profile: Profile,
    options: RunOptions,
    only: list[str] | None = None,
    skip: list[str] | None = None,
    budget_s: float | None = None,
    fail_on: Severity = Severity.FAIL,
    on_result: Callable[[CheckResult], None] | None = None,
) -> RunReport:
    checks = all_checks(options.trigger_deadline_s)
    chosen = select(checks, only or [], skip or [])
    ctx = Context(profile, options)
    started_at = datetime.now(UTC)
    started = time.monotonic()
    _prewarm(ctx, chosen)
    results = run(checks, ctx, budget_s=budget_s, on_result=on_result, selected=chosen)
    return make_report(
        profile, results, started_at, int((time.monotonic() - started) * 1000), fail_on
    )


def make_report(
    profile: Profile,
    results: list[CheckResult],
    started_at: datetime,
    duration_ms: int,
    fail_on: Severity = Severity.FAIL,
) -> RunReport:
    """The report of whatever results there are (all of them, or those finished before Ctrl-C)."""
    cat = catalogue.default()
    order = {cid: i for i, cid in enumerate(check_ids())}
    results = sorted(results, key=lambda r: order.get(r.id, len(order)))
    entries = diagnosis.build(
        ((r.id, f) for r in results for f in r.findings),
        cat,
        rank=lambda cid: order.get(cid, len(order)),
    )
    return RunReport(
        profile=profile,
        started_at=started_at,
        duration_ms=duration_ms,
        checks=results,
        diagnosis=entries,
        catalogue_version=cat.version,
        fail_on=fail_on,
    )
