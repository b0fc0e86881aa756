"""`diagnose run --all`: find the fleet through Resource Graph, check every account, and say it once.

The report ranks causes by how many accounts they hit and says a root cause that one shared
resource explains once ("one disabled principal revokes 2 accounts"), then each account's own
diagnosis. Exit statuses as `run`: 1 when an account has a finding at or above `--fail-on` that
no baseline accepts (or whose acceptance expired), else 3 when an account is undecided, else 0.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from diagnose import __version__, catalogue, deadline
from diagnose.errors import InputError
from diagnose.exitstatus import ExitStatus, decide
from diagnose.model import DiagnosisEntry, Severity

if TYPE_CHECKING:
    from diagnose.fleet.baseline import Acceptance, Baseline
    from diagnose.fleet.horizon import Horizon
    from diagnose.fleet.inventory import Inventory, Scope
    from diagnose.fleet.pacing import Pacer
    from diagnose.fleet.schedule import AccountRun
    from diagnose.profile import Profile

SCHEMA = "diagnose/fleet@1"
DEFAULT_CONCURRENCY = 16

# What a root cause found by a check is about: the resource several accounts may share.
RESOURCE_OF_CHECK = {
    "principal.enabled": "principal",
    "roles.keyvault": "principal",
    "keyvault.vault": "vault",
    "keyvault.key": "key",
    "keyvault.unwrap": "key",
    "cosmos.cmk": "account",
}
# How the summary words a shared root cause: (what the resource is, what it does to the accounts).
SHARED_WORDS = {
    "principal.disabled": ("disabled principal", "revokes"),
    "principal.disabled-by-microsoft": ("principal disabled by Microsoft", "revokes"),
    "principal.deleted": ("deleted principal", "revokes"),
    "keyvault.role-missing": ("principal without rights on its key", "revokes"),
    "keyvault.access-policy-missing": ("principal without an access policy", "revokes"),
    "key.disabled": ("disabled key", "revokes"),
    "key.expired": ("expired key", "revokes"),
    "key.not-found": ("missing key", "revokes"),
    "keyvault.firewall-blocks-trusted-services": ("vault closed to trusted services", "revokes"),
    "keyvault.purge-protection-off": ("vault without purge protection", "puts at risk"),
    "keyvault.soft-delete-off": ("vault without soft delete", "puts at risk"),
}


@dataclass
class AccountVerdict:
    run: AccountRun
    status: str  # healthy | failing | undecided
    entries: list[DiagnosisEntry]  # the diagnosis, accepted findings left out
    accepted: list[tuple[DiagnosisEntry, Acceptance]] = field(default_factory=list)
    expired: list[tuple[DiagnosisEntry, Acceptance]] = field(default_factory=list)
    reason: str | None = None  # why undecided

    @property
    def id(self) -> str:
        return self.run.account.id

    @property
    def root(self) -> DiagnosisEntry | None:
        return self.entries[0] if self.entries else None

    def resource(self, entry: DiagnosisEntry) -> tuple[str, str, str]:
        """(kind, id, name) of what `entry` is about: the shared resource, or the account."""
        kind = RESOURCE_OF_CHECK.get(entry.checks[0] if entry.checks else "", "account")
        report = self.run.report
        profile = report.profile if report else None
        if kind == "principal" and report:
            evidence = next((c.evidence for c in report.checks if c.id == "principal.enabled"), {})
            app_id = str(evidence.get("app_id") or "")
            if app_id:
                return kind, app_id, str(evidence.get("display_name") or app_id)
        if kind == "key" and profile and profile.key_id:
            return kind, profile.key_id, profile.key_id.rstrip("/").split("/")[-1]
        if kind == "vault" and profile and profile.keyvault_id:
            return kind, profile.keyvault_id, profile.keyvault_id.split("/")[-1]
        return "account", self.id, self.run.account.name


@dataclass
class SharedCause:
    code: str
    title: str
    kind: str
    resource: str
    name: str
    accounts: list[str]

    @property
    def message(self) -> str:
        what, verb = SHARED_WORDS.get(
            self.code, (f"{self.kind} ({self.title})", "is the root cause of")
        )
        n = len(self.accounts)
        return f"one {what} ({self.name}) {verb} {n} account{'s' if n != 1 else ''}"


@dataclass
class CauseCount:
    code: str
    title: str
    severity: Severity
    accounts: int
    root_of: int  # how many accounts it is the root cause of


@dataclass
class FleetReport:
    scope: Scope
    started_at: datetime
    duration_ms: int
    verdicts: list[AccountVerdict]
    causes: list[CauseCount]
    shared: list[SharedCause]
    inventory: Inventory
    fail_on: Severity
    catalogue_version: str
    concurrency: int
    profile: Profile | None = None  # the fleet's own (cloud, tenant, profile file); no account's
    baseline: Baseline | None = None
    baseline_written: Path | None = None
    horizon: Horizon | None = None  # with --horizon: its notices and what it could not read
    pacer: Pacer | None = None  # how ARM's reads were paced (fleet/pacing.py)
    version: str = __version__
    schema: str = SCHEMA

    def count(self, status: str) -> int:
        return sum(1 for v in self.verdicts if v.status == status)

    @property
    def exit_status(self) -> ExitStatus:
        severities = [e.severity for v in self.verdicts for e in v.entries if e.decided]
        severities += self.horizon.severities() if self.horizon else []
        unread = self.horizon is not None and self.horizon.unread(self.fail_on)
        return decide(
            severities,
            undecided=unread or any(v.status == "undecided" for v in self.verdicts),
            fail_on=self.fail_on,
        )

    @property
    def status(self) -> str:
        if self.count("failing"):
            return "fail"
        if (self.horizon and self.horizon.notices) or any(
            e.severity is Severity.WARN for v in self.verdicts for e in v.entries
        ):
            return "warn"
        return "error" if self.count("undecided") else "pass"


def judge(
    run: AccountRun, baseline: Baseline | None, fail_on: Severity, today: date
) -> AccountVerdict:
    """One account's verdict: its diagnosis less what the baseline accepts (and has not expired)."""
    from diagnose.fleet import gate

    if run.report is None:
        return AccountVerdict(run, "undecided", [], reason=run.not_run)
    kept, accepted, expired = gate.judge(run.report.diagnosis, run.account.id, baseline, today)
    verdict = AccountVerdict(run, "healthy", kept, accepted, expired)
    if any(e.decided and e.severity.rank >= fail_on.rank for e in kept):
        verdict.status = "failing"
    elif run.report.limitations:
        verdict.status = "undecided"
        first = run.report.limitations[0]
        verdict.reason = first.limitation.reason if first.limitation else first.summary
    return verdict


def summarise(verdicts: list[AccountVerdict]) -> tuple[list[CauseCount], list[SharedCause]]:
    """Causes ranked by the accounts they hit; root causes one shared resource explains."""
    cat = catalogue.default()
    hits: Counter[str] = Counter()
    roots: Counter[str] = Counter()
    severity: dict[str, Severity] = {}
    groups: dict[tuple[str, str], tuple[str, str, list[str]]] = {}
    for v in verdicts:
        for entry in {e.code: e for e in v.entries}.values():
            hits[entry.code] += 1
            severity[entry.code] = entry.severity
        root = v.root
        if root is not None and root.decided:
            roots[root.code] += 1
            kind, rid, name = v.resource(root)
            groups.setdefault((root.code, rid.lower()), (kind, name, []))[2].append(v.id)
    causes = [
        CauseCount(code, cat.cause(code).title, severity[code], n, roots[code])
        for code, n in sorted(hits.items(), key=lambda kv: (-kv[1], -roots[kv[0]], kv[0]))
    ]
    shared = [
        SharedCause(code, cat.cause(code).title, kind, rid, name, accounts)
        for (code, rid), (kind, name, accounts) in groups.items()
        if len(accounts) > 1 and kind != "account"
    ]
    shared.sort(key=lambda s: (-len(s.accounts), s.code))
    return causes, shared


def run_fleet(
    profile: Profile,
    scope: Scope,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    budget_s: float | None = None,
    fail_on: Severity = Severity.FAIL,
    baseline: Baseline | None = None,
    write_baseline: Path | None = None,
    horizon: timedelta | None = None,
    on_inventory: Callable[[int], None] | None = None,
    on_account: Callable[[AccountRun], None] | None = None,
) -> FleetReport:
    from diagnose.azure import rest
    from diagnose.checks.base import Context, RunOptions
    from diagnose.fleet import baseline as baselines
    from diagnose.fleet import pacing
    from diagnose.fleet.inventory import discover
    from diagnose.fleet.pacing import Pacer
    from diagnose.fleet.schedule import run_fleet as schedule

    started_at = datetime.now(UTC)
    started = time.monotonic()
    shared = Context(profile, RunOptions())
    pacer = Pacer()  # ARM's per-subscription reads, paced for every account (fleet/pacing.py)
    shared.memo("client:arm", lambda: rest.arm(profile, shared.credential, [pacing.policy(pacer)]))
    with deadline.until(started + budget_s if budget_s else None):
        inventory = discover(shared.arm, scope)
    if not inventory.accounts:
        raise InputError(
            "Resource Graph found no Cosmos DB account with a customer-managed key "
            f"(keyVaultKeyUri) in the scope {scope.to_json()} that the identity can read"
        )
    if on_inventory:
        on_inventory(len(inventory.accounts))
    runs = schedule(
        profile,
        inventory,
        shared,
        concurrency=concurrency,
        budget_s=budget_s,
        fail_on=fail_on,
        started=started,
        on_account=on_account,
        pacer=pacer,
    )
    today = datetime.now(UTC).date()
    written: Path | None = None
    if write_baseline is not None:
        findings = [(e.code, r.account.id) for r in runs if r.report for e in r.report.diagnosis]
        baseline = baselines.write(write_baseline, findings, today)
        written = write_baseline
    verdicts = [judge(r, baseline, fail_on, today) for r in runs]
    seen: Horizon | None = None
    if horizon is not None:
        from diagnose.fleet.horizon import look_ahead

        reports = [(r.account.id, r.report) for r in runs if r.report]
        seen = look_ahead(shared, reports, datetime.now(UTC), horizon)
    causes, shared_causes = summarise(verdicts)
    return FleetReport(
        scope=scope,
        started_at=started_at,
        duration_ms=int((time.monotonic() - started) * 1000),
        verdicts=verdicts,
        causes=causes,
        shared=shared_causes,
        inventory=inventory,
        fail_on=fail_on,
        catalogue_version=catalogue.default().version,
        concurrency=concurrency,
        profile=profile,
        baseline=baseline,
        baseline_written=written,
        horizon=seen,
        pacer=pacer,
    )
