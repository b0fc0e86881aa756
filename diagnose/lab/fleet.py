"""The fleet worlds: many Cosmos DB accounts with customer-managed keys, for `diagnose run --all`.

`fleet` is 50 accounts over 3 subscriptions; `fleet:N` is N accounts (3 to 5,000) laid out the
same way, for benchmarks; `fleet-throttled[:N]` is the same world behind tight throttles (ARM
reads 20 per subscription and principal, refilled 5 a second; Resource Graph 1 query per 5 s)
so that a run meets 429s in the published shapes. Every fleet has exactly three broken accounts:
the last two share one disabled principal (the multi-tenant application `ajo-cmk-legacy-app`
that their default identity names through `id-cmk-legacy`'s FederatedClientId), the last has its
own vault and key, and that key is disabled. The others are healthy and share vaults (one per 10 accounts, in that
vault's subscription and resource group), keys (two per vault) and principals (one user-assigned
identity per 5 accounts). docs/lab.md "Fleet" is the contract; this module is plain data (the
services are built by diagnose/lab/fleet_lab.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from diagnose.lab.world import World

NAME = "fleet"
DESCRIPTION = (
    "50 Cosmos DB accounts over 3 subscriptions sharing vaults, keys and principals; 3 broken "
    "(two share one disabled principal, one has its own key disabled). Use with `run --all`; "
    "fleet:N for N accounts, fleet-throttled[:N] behind tight throttles."
)
DEFAULT_ACCOUNTS = 50
MAX_ACCOUNTS = 5000
ACCOUNTS_PER_VAULT = 10
ACCOUNTS_PER_PRINCIPAL = 5
LEGACY_PRINCIPAL = "id-cmk-legacy"
SOLO_VAULT = "kv-cmk-solo"
SOLO_KEY = "cmk-solo"
PROD_GROUP, DEV_GROUP = "mg-ajo-prod", "mg-ajo-dev"

_NAME = re.compile(r"^fleet(?P<throttled>-throttled)?(?::(?P<n>\d+))?$")


@dataclass(frozen=True)
class FleetSpec:
    accounts: int
    throttled: bool = False

    @property
    def subscriptions(self) -> int:
        """3 up to 150 accounts, then one per 50 (a subscription per team or region)."""
        return 3 if self.accounts <= 150 else math.ceil(self.accounts / 50)


class BadFleetName(ValueError):
    pass


def parse(name: str) -> FleetSpec | None:
    """The spec a scenario name asks for; None when it is no fleet name; BadFleetName when its
    size is out of range."""
    m = _NAME.match(name)
    if m is None:
        return None
    n = int(m.group("n")) if m.group("n") else DEFAULT_ACCOUNTS
    if not 3 <= n <= MAX_ACCOUNTS:
        raise BadFleetName(f"{name}: a fleet has 3 to {MAX_ACCOUNTS} accounts, not {n}")
    return FleetSpec(n, bool(m.group("throttled")))


def is_fleet(name: str) -> bool:
    return _NAME.match(name) is not None


@dataclass(frozen=True)
class Placement:
    """Where one account lives and what it uses (names; the lab turns them into resources)."""

    index: int
    name: str
    subscription: int
    group: str
    vault: str
    key: str
    principal: str
    tags: tuple[tuple[str, str], ...]
    broken: str | None = None  # the root cause `run --all` must find (None: healthy)


def management_group(subscription: int) -> str:
    """Every third subscription is a development one (lab's choice)."""
    return DEV_GROUP if subscription % 3 == 2 else PROD_GROUP


def layout(spec: FleetSpec) -> list[Placement]:
    """Every account of the fleet, in order; the last three are the broken ones."""
    subs = spec.subscriptions
    healthy = spec.accounts - 3
    out: list[Placement] = []

    def tags(sub: int) -> tuple[tuple[str, str], ...]:
        env = "dev" if management_group(sub) == DEV_GROUP else "prod"
        return (("env", env), ("app", "ajo"))

    for i in range(healthy):
        v = i // ACCOUNTS_PER_VAULT
        sub = v % subs
        out.append(
            Placement(
                i,
                f"cosmos-ajo-{i:04d}",
                sub,
                f"rg-ajo-cmk-{v:03d}",
                f"kv-ajo-cmk-{v:03d}",
                "cmk-a" if i % 2 == 0 else "cmk-b",
                f"id-cmk-{i // ACCOUNTS_PER_PRINCIPAL:03d}",
                tags(sub),
            )
        )
    for i in (healthy, healthy + 1):  # the pair behind one disabled principal, in vault 0
        out.append(
            Placement(
                i,
                f"cosmos-ajo-{i:04d}",
                0,
                "rg-ajo-cmk-000",
                "kv-ajo-cmk-000",
                "cmk-a",
                LEGACY_PRINCIPAL,
                tags(0),
                broken="principal.disabled",
            )
        )
    i = healthy + 2
    solo_sub = min(2, subs - 1)
    out.append(
        Placement(
            i,
            f"cosmos-ajo-{i:04d}",
            solo_sub,
            "rg-ajo-cmk-solo",
            SOLO_VAULT,
            SOLO_KEY,
            "id-cmk-solo",
            tags(solo_sub),
            broken="key.disabled",
        )
    )
    return out


@dataclass
class Fleet:
    """The built fleet: one world per account (sharing vault, key and principal objects)."""

    spec: FleetSpec
    placements: list[Placement]
    worlds: list[World]
    subscription_ids: list[str]
    tags: dict[str, dict[str, str]]  # lower-case account id -> its tags

    def subscriptions_below(self, group: str) -> list[str]:
        return [
            sid
            for s, sid in enumerate(self.subscription_ids)
            if management_group(s).lower() == group.lower()
        ]
