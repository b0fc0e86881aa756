"""The main job: run the check chain against a profile and turn the results into a report."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from diagnose import __version__, catalogue, diagnosis
from diagnose.checks import check_ids, registry
from diagnose.checks.base import Check, Context, RunOptions
from diagnose.errors import InputError
from diagnose.exitstatus import ExitStatus, decide
from diagnose.model import CheckResult, DiagnosisEntry, Severity, Status
from diagnose.profile import Profile
from diagnose.runner import plan, run

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
        return decide(  # a cause counts once nothing undecided stands before it in the chain
            (e.severity for e in self.diagnosis if e.decided),
            undecided=bool(self.limitations),
            fail_on=self.fail_on,
        )


def select(checks: list[Check], only: list[str], skip: list[str]) -> list[Check]:
    """The checks `--only`/`--skip` choose (the runner adds what they need, and skips what needs a skipped one)."""
    known = {c.id for c in checks}
    unknown = [i for i in [*only, *skip] if i not in known]
    if unknown:
        raise InputError(f"unknown check id(s): {', '.join(unknown)} (see `diagnose checks`)")
    chosen = [c for c in checks if (not only or c.id in only) and c.id not in skip]
    if not chosen:
        raise InputError("--only/--skip leave no check to run")
    return chosen


def require_causes(checks: Sequence[Check], cat: catalogue.Catalogue) -> None:
    """Refuse to start when a check declares a cause no runbook defines (it could not be explained)."""
    for check in checks:
        missing = [code for code in check.causes if code not in cat.causes]
        if missing:
            raise InputError(
                f"{check.id} declares cause(s) no runbook defines: {', '.join(missing)} "
                f"(extra runbook directories go in {catalogue.EXTRA_RUNBOOKS_VARIABLE})"
            )


def _prewarm(ctx: Context, checks: list[Check]) -> None:
    """Start the token requests every Azure check needs at once, so they overlap.

    The reads particular checks want started early are their own declarations (`Check.prewarm`),
    which the runner starts.
    """
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


def run_checks(
    profile: Profile,
    options: RunOptions,
    only: list[str] | None = None,
    skip: list[str] | None = None,
    budget_s: float | None = None,
    fail_on: Severity = Severity.FAIL,
    on_result: Callable[[CheckResult], None] | None = None,
    extra_checks: Sequence[Check] = (),
) -> RunReport:
    """Run the chosen checks (and what they need) and report; `extra_checks` join the registry."""
    checks = registry(options.trigger_deadline_s, extra_checks)
    require_causes(checks, catalogue.default())
    chosen = select(checks, only or [], skip or [])
    ctx = Context(profile, options)
    started_at = datetime.now(UTC)
    started = time.monotonic()
    _prewarm(ctx, plan(checks, chosen, skip or ()))
    results = run(
        checks, ctx, budget_s=budget_s, on_result=on_result, selected=chosen, skipped=skip or ()
    )
    return make_report(
        profile,
        results,
        started_at,
        int((time.monotonic() - started) * 1000),
        fail_on,
        order=[c.id for c in checks],
    )


def make_report(
    profile: Profile,
    results: list[CheckResult],
    started_at: datetime,
    duration_ms: int,
    fail_on: Severity = Severity.FAIL,
    order: Sequence[str] | None = None,
) -> RunReport:
    """The report of whatever results there are (all of them, or those finished before Ctrl-C).

    `order` is the chain order of the check ids (default: the registry's).
    """
    cat = catalogue.default()
    rank = {cid: i for i, cid in enumerate(order if order is not None else check_ids())}
    results = sorted(results, key=lambda r: rank.get(r.id, len(rank)))
    entries = diagnosis.build(
        ((r.id, f) for r in results for f in r.findings),
        cat,
        rank=lambda cid: rank.get(cid, len(rank)),
    )
    diagnosis.mark_undecided(
        entries,
        (
            (r.id, r.limitation.reason if r.limitation else r.summary)
            for r in results
            if r.status is Status.ERROR
        ),
        rank=lambda cid: rank.get(cid, len(rank)),
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
