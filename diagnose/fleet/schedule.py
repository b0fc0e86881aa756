"""Run the account-level chain on every account of the inventory, `concurrency` at a time.

Each account gets its own profile (the fleet's cloud, tenant and credential, plus what Resource
Graph said of the account: its id, key, vault and endpoint) and its own check context over the
fleet's shared reads (shared.py). One account's failure never stops the others: whatever a run
raises becomes that account's limitation. `--timeout` bounds the whole fleet: each account's
run gets what is left of it, and an account not started when it is spent is named undecided.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from diagnose.checks.base import Check, Context, Outcome
from diagnose.fleet.inventory import Account, Inventory, host_of
from diagnose.fleet.pacing import Pacer
from diagnose.fleet.shared import FleetContext
from diagnose.model import Severity
from diagnose.profile import Profile
from diagnose.usecases.run import RunReport

# The account-level chain (issue 16): the principal, its rights on the key, the vault, the key,
# the unwrap proof and the CMK status. The data plane, the production caller's role and the
# campaign belong to one profile.
ACCOUNT_CHECKS = (
    "principal.enabled",
    "roles.keyvault",
    "keyvault.vault",
    "keyvault.key",
    "keyvault.unwrap",
    "cosmos.cmk",
)
# What the fleet keeps of the profile: where and as whom to sign in, never one account's names.
FLEET_KEYS = ("cloud", "authority", "arm_url", "graph_url", "ca_bundle", "tenant_id")
FROM_GRAPH = "Azure Resource Graph"


# Checks whose outcome depends on the key alone (and the diagnosing identity): run once per key.
PER_KEY_CHECKS = ("keyvault.unwrap",)


def _once_per_key(check: Check) -> Check:
    """`check`, run once per key URI for the whole fleet (the live wrap/unwrap proof)."""

    def run(ctx: Context) -> Outcome:
        key = f"outcome:{check.id}@{(ctx.profile.key_id or '').lower()}"
        return ctx.memo(key, lambda: check.run(ctx))

    return dataclasses.replace(check, run=run)


@dataclass
class AccountRun:
    account: Account
    report: RunReport | None
    not_run: str | None = None  # why no check ran (the --timeout spent before it started)


def account_profile(base: Profile, account: Account, vaults: dict[str, str]) -> Profile:
    values = {k: v for k, v in base.values.items() if k in FLEET_KEYS}
    sources = {k: v for k, v in base.sources.items() if k in FLEET_KEYS}
    found = {
        "subscription_id": account.subscription_id,
        "cosmos_id": account.id,
        "key_id": account.key_uri,
        "keyvault_url": f"https://{host_of(account.key_uri)}/",
    }
    vault_id = vaults.get(host_of(account.key_uri))
    if vault_id:
        found["keyvault_id"] = vault_id
    if account.endpoint:
        found["cosmos_endpoint"] = account.endpoint
    values.update(found)
    sources.update(dict.fromkeys(found, FROM_GRAPH))
    return Profile(base.name, values, sources, dict(base.credentials), base.path)


def run_fleet(
    base: Profile,
    inventory: Inventory,
    shared: Context,
    *,
    concurrency: int,
    budget_s: float | None,
    fail_on: Severity,
    started: float,
    on_account: Callable[[AccountRun], None] | None = None,
    pacer: Pacer | None = None,
) -> list[AccountRun]:
    """Every account's run, in the inventory's order."""
    from diagnose import catalogue
    from diagnose.checks import registry
    from diagnose.runner import run
    from diagnose.usecases.run import make_report, require_causes, select

    checks = [_once_per_key(c) if c.id in PER_KEY_CHECKS else c for c in registry()]
    require_causes(checks, catalogue.default())
    chosen = select(checks, list(ACCOUNT_CHECKS), [])
    order = [c.id for c in checks]
    options = shared.options
    ends_at = started + budget_s if budget_s else None

    def one(account: Account) -> AccountRun:
        left = None if ends_at is None else ends_at - time.monotonic()
        if left is not None and left <= 0:
            outcome = AccountRun(
                account, None, f"not started: the --timeout budget ({budget_s:g} s) was spent"
            )
        else:
            outcome = _run_account(account, left)
        if on_account:
            on_account(outcome)
        return outcome

    def _run_account(account: Account, left: float | None) -> AccountRun:
        profile = account_profile(base, account, inventory.vaults)
        ctx = FleetContext(profile, options, shared)
        at, t0 = datetime.now(UTC), time.monotonic()
        try:
            results = run(list(checks), ctx, budget_s=left, selected=chosen)
        except Exception as exc:  # noqa: BLE001 - one account's failure never stops the others
            return AccountRun(account, None, f"the account's run failed: {exc}")
        duration = int((time.monotonic() - t0) * 1000)
        report = make_report(profile, results, at, duration, fail_on, order=order, checks=checks)
        return AccountRun(account, report)

    picker = Picker(inventory.accounts, pacer)
    out: dict[int, AccountRun] = {}

    def worker() -> None:
        while (picked := picker.next()) is not None:
            index, account = picked
            out[index] = one(account)

    workers = max(1, min(concurrency, len(inventory.accounts)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fleet") as pool:
        for future in [pool.submit(worker) for _ in range(workers)]:
            future.result()
    return [out[i] for i in range(len(inventory.accounts))]


class Picker:
    """The accounts not yet started, handed to the workers one at a time: in the inventory's order,
    but one whose subscription ARM has paused (pacing.py) is passed over while another's can start,
    so a paused subscription never holds the workers (when every subscription left is paused, the
    one that resumes first)."""

    def __init__(self, accounts: Sequence[Account], pacer: Pacer | None) -> None:
        self.pending = list(enumerate(accounts))
        self.pacer = pacer
        self._lock = threading.Lock()

    def next(self) -> tuple[int, Account] | None:
        with self._lock:
            if not self.pending:
                return None
            chosen = 0
            if self.pacer is not None:
                now = time.monotonic()
                waits: dict[str, float] = {}
                for n, (_, account) in enumerate(self.pending):
                    sub = account.subscription_id.lower()
                    if sub not in waits:
                        waits[sub] = self.pacer.paused(sub, now)
                    if waits[sub] <= 0:
                        chosen = n
                        break
                else:
                    soonest = min(waits, key=lambda s: waits[s])
                    chosen = next(
                        n
                        for n, (_, a) in enumerate(self.pending)
                        if a.subscription_id.lower() == soonest
                    )
            return self.pending.pop(chosen)
