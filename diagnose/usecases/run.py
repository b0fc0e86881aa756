"""The main job: run the check chain against a profile and turn the results into a report."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from diagnose import __version__, catalogue, diagnosis, remediation
from diagnose.checks import check_ids, registry
from diagnose.checks.base import Check, Context, RunOptions
from diagnose.errors import InputError
from diagnose.exitstatus import ExitStatus, decide
from diagnose.model import CheckResult, DiagnosisEntry, Severity, Status, StepRef
from diagnose.profile import Profile, readiness
from diagnose.runner import plan, run

if TYPE_CHECKING:
    from diagnose.fleet.gate import Gate
    from diagnose.timeline.model import Timeline

SCHEMA = "diagnose/report@1"


@dataclass(frozen=True)
class NotTested:
    """A check that applied to this setup but did not run: the reason, and how to run it."""

    check: str
    reason: str
    how: str | None = None  # what would run it (`--trigger`), when something would


@dataclass(frozen=True)
class NotProven:
    """A check that decided what it reads but could not make its live proof: the diagnosing
    identity lacks the right that proves (the unwrap round trip, the execution call)."""

    check: str
    reason: str
    needs: tuple[str, ...]  # the check's declared rights to prove (`Check.prove_permissions`)


@dataclass(frozen=True)
class Undecided:
    """One reason the tool could not decide, said once for every check it stopped."""

    reason: str
    checks: tuple[str, ...]
    permission: str | None = None
    step: StepRef | None = None  # the runbook (step) that fixes it, when the catalogue knows it
    code: str | None = None  # the catalogue's cause for the reason, when one matches


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
    not_tested: list[NotTested] = field(default_factory=list)
    undecided: list[Undecided] = field(default_factory=list)  # the limitations, not_proven apart
    not_proven: list[NotProven] = field(default_factory=list)
    what_changed: Timeline | None = None  # run --what-changed (diagnose/usecases/timeline.py)
    gate: Gate | None = None  # --baseline/--write-baseline/--horizon (diagnose/fleet/gate.py)

    @property
    def limitations(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status is Status.ERROR]

    @property
    def status(self) -> str:
        severities = [f.severity for c in self.checks for f in c.findings]
        if self.gate:  # what a baseline accepts is left out; the horizon's notices are warnings
            severities = [e.severity for e in self.diagnosis] + self.gate.severities()
        if Severity.FAIL in severities:
            return "fail"
        if Severity.WARN in severities:
            return "warn"
        if self.limitations:
            return "error"
        return "pass"

    @property
    def exit_status(self) -> ExitStatus:
        gate = self.gate
        return decide(  # a cause counts once nothing undecided stands before it in the chain
            [e.severity for e in self.diagnosis if e.decided] + (gate.severities() if gate else []),
            undecided=bool(self.limitations) or bool(gate and gate.unread(self.fail_on)),
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
    if not any(c.uses_azure for c in checks) or not readiness(ctx.profile).can_start:
        return  # nothing will read Azure: no sign-in (and no SDK import) for a profile that is empty
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


def cap_severities(result: CheckResult, cat: catalogue.Catalogue) -> CheckResult:
    """A finding is at most as severe as its cause in the catalogue, and the status follows.

    The catalogue says what a cause is worth (`severity: warn`: a risk that does not break the
    chain now, such as purge protection off); a check says what it saw, and may say less.
    """
    changed = False
    for f in result.findings:
        declared = cat.causes[f.code].severity if f.code in cat.causes else f.severity
        if declared.rank < f.severity.rank:
            f.severity = declared
            changed = True
    if changed and result.status is Status.FAIL:
        worst = max((f.severity for f in result.findings), key=lambda s: s.rank)
        result.status = Status.FAIL if worst is Severity.FAIL else Status.WARN
    return result


def run_checks(
    profile: Profile,
    options: RunOptions,
    only: list[str] | None = None,
    skip: list[str] | None = None,
    budget_s: float | None = None,
    fail_on: Severity = Severity.FAIL,
    on_result: Callable[[CheckResult], None] | None = None,
    extra_checks: Sequence[Check] = (),
    derive: bool = True,
    on_plan: Callable[[list[Check]], None] | None = None,
) -> RunReport:
    """Run the chosen checks (and what they need) and report; `extra_checks` join the registry.

    With `derive`, what the profile leaves out and the Cosmos DB account names (the vault and
    key of its `keyVaultKeyUri`, its endpoint) is read first and used (usecases/derive.py).
    """
    checks = registry(options.trigger_deadline_s, extra_checks)
    cat = catalogue.default()
    require_causes(checks, cat)
    chosen = select(checks, only or [], skip or [])
    ctx = Context(profile, options)
    started_at = datetime.now(UTC)
    started = time.monotonic()
    planned = plan(checks, chosen, skip or ())
    if on_plan:
        on_plan(planned)
    _prewarm(ctx, planned)
    if derive:
        from diagnose.usecases import derive as derivation

        ctx.profile = derivation.complete(ctx)

    def announce(result: CheckResult) -> None:
        cap_severities(result, cat)
        if on_result:
            on_result(result)

    results = run(
        checks, ctx, budget_s=budget_s, on_result=announce, selected=chosen, skipped=skip or ()
    )
    return make_report(
        ctx.profile,
        results,
        started_at,
        int((time.monotonic() - started) * 1000),
        fail_on,
        order=[c.id for c in checks],
        checks=checks,
    )


def make_report(
    profile: Profile,
    results: list[CheckResult],
    started_at: datetime,
    duration_ms: int,
    fail_on: Severity = Severity.FAIL,
    order: Sequence[str] | None = None,
    checks: Sequence[Check] | None = None,
) -> RunReport:
    """The report of whatever results there are (all of them, or those finished before Ctrl-C).

    `order` is the chain order of the check ids (default: the registry's); `checks` their
    declarations (default: the shipped and contributed checks).
    """
    from diagnose.checks import all_checks

    cat = catalogue.default()
    rank = {cid: i for i, cid in enumerate(order if order is not None else check_ids())}
    results = sorted(results, key=lambda r: rank.get(r.id, len(rank)))
    for result in results:
        cap_severities(result, cat)
    declared = {c.id: c for c in (checks if checks is not None else all_checks())}
    unproven = not_proven(results, declared)
    proofs = {n.check for n in unproven}  # they read what they decide from: nothing hides there
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
            if r.status is Status.ERROR and r.id not in proofs
        ),
        rank=lambda cid: rank.get(cid, len(rank)),
    )
    remediation.fill(entries, results, profile)  # the fixes with the values this run read
    return RunReport(
        profile=profile,
        started_at=started_at,
        duration_ms=duration_ms,
        checks=results,
        diagnosis=entries,
        catalogue_version=cat.version,
        fail_on=fail_on,
        not_tested=not_tested(results, declared, profile.topology),
        undecided=undecided([r for r in results if r.id not in proofs], cat),
        not_proven=unproven,
    )


def not_proven(results: Sequence[CheckResult], declared: dict[str, Check]) -> list[NotProven]:
    """The checks that could not make their live proof for want of a right to prove.

    A check that declares `prove_permissions` and ends on a right the diagnosing identity lacks
    (a `NotPermitted`: its limitation names a right) other than one of its read rights: what it
    reads was decided by the checks before it; the proof alone is missing. It stays `error`
    (exit 3: not proven is not healthy), but blames nothing and hides no cause after it.
    """
    out: list[NotProven] = []
    for r in results:
        check = declared.get(r.id)
        limitation = r.limitation
        if (
            check is None
            or not check.prove_permissions
            or r.status is not Status.ERROR
            or limitation is None
            or limitation.permission is None
            or limitation.permission in check.permissions
        ):
            continue
        out.append(NotProven(r.id, limitation.reason, check.prove_permissions))
    return out


def not_tested(
    results: Sequence[CheckResult], declared: dict[str, Check], topology: str
) -> list[NotTested]:
    """The skipped checks that apply to this topology: what this run did not test, and why."""
    out: list[NotTested] = []
    for r in results:
        check = declared.get(r.id)
        if r.status is not Status.SKIP or (check and topology not in check.topologies):
            continue
        how = (
            "add --trigger: one real execution call" if check and check.only_with_trigger else None
        )
        out.append(NotTested(r.id, r.summary, how))
    return out


_CREDENTIAL_WORDS = re.compile(r"(?i)\bcredential\b|\btoken\b")
CREDENTIAL_RUNBOOK = "entra-credentials"


def undecided(results: Sequence[CheckResult], cat: catalogue.Catalogue) -> list[Undecided]:
    """Each reason the tool could not decide, once, with the checks it stopped and its runbook.

    The runbook comes from the catalogue's own signatures matched against the reason (an
    AADSTS code, ForbiddenByFirewall); a credential or token problem they do not name is the
    tool's credential: runbook entra-credentials.
    """
    from diagnose.triage.scanner import Scanner
    from diagnose.triage.signatures import compile_catalogue

    groups: dict[tuple[str, str | None], list[str]] = {}
    for r in results:
        if r.status is Status.ERROR and r.limitation:
            key = (r.limitation.reason, r.limitation.permission)
            groups.setdefault(key, []).append(r.id)
    if not groups:
        return []
    scanner = Scanner(compile_catalogue(cat))
    out: list[Undecided] = []
    for (reason, permission), ids in groups.items():
        match = next(iter(scanner.scan([reason.encode() + b"\n"], "limitation")), None)
        step: StepRef | None = None
        code: str | None = None
        if match is not None:
            step, code = StepRef(match.runbook, match.step), match.code
        elif _CREDENTIAL_WORDS.search(reason) and CREDENTIAL_RUNBOOK in cat.runbooks:
            step = StepRef(CREDENTIAL_RUNBOOK, 1)
        out.append(Undecided(reason, tuple(ids), permission, step, code))
    return out
