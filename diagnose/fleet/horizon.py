"""`--horizon 30d`: what the sources show will need action inside the horizon.

Today: the current version of each key the fleet uses, when its `exp` falls inside the horizon
and no rotation policy rotates it (ARM's `properties.rotationPolicy.lifetimeActions[].action.type`
`Rotate`, in the key resource the fleet has already read: no extra request; the property is
ARM's, https://learn.microsoft.com/azure/templates/microsoft.keyvault/vaults/keys). Each key is
said once, with the accounts that use it. Not yet: the diagnosing identity's own secret or
certificate end dates and the dated credentials of an application-backed CMK principal (they
need Microsoft Graph's `applications`, which the lab does not serve yet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from diagnose.errors import InputError

if TYPE_CHECKING:
    from diagnose.checks.base import Context
    from diagnose.fleet.schedule import AccountRun

_SPAN = re.compile(r"^\s*(\d+)\s*([dh])\s*$", re.I)


def parse(text: str) -> timedelta:
    """`30d`, `12h`: the horizon; InputError naming the value otherwise."""
    m = _SPAN.match(text)
    if m is None or int(m.group(1)) == 0:
        raise InputError(f"--horizon {text!r} is not a number of days or hours (30d, 12h)")
    n = int(m.group(1))
    return timedelta(days=n) if m.group(2).lower() == "d" else timedelta(hours=n)


@dataclass
class Notice:
    """One thing that needs action inside the horizon, and the accounts it concerns."""

    kind: str  # key-expiry
    resource: str
    name: str
    due: datetime
    message: str
    accounts: list[str] = field(default_factory=list)


def rotates(properties: dict[str, Any]) -> bool:
    policy = properties.get("rotationPolicy")
    actions = policy.get("lifetimeActions") if isinstance(policy, dict) else None
    return any(
        isinstance(a, dict)
        and isinstance(a.get("action"), dict)
        and str(a["action"].get("type", "")).lower() == "rotate"
        for a in (actions if isinstance(actions, list) else [])
    )


def key_expiries(
    shared: Context, runs: list[AccountRun], now: datetime, horizon: timedelta
) -> list[Notice]:
    """Each key whose current version expires inside the horizon with no rotation policy."""
    from diagnose.checks import reads

    notices: dict[str, Notice] = {}
    for run in runs:
        report = run.report
        check = next((c for c in report.checks if c.id == "keyvault.key"), None) if report else None
        if report is None or check is None or not check.evidence.get("exp"):
            continue
        due = datetime.fromisoformat(str(check.evidence["exp"]))
        if not now <= due <= now + horizon:
            continue
        profile = report.profile
        key_id = (profile.key_id or "").lower()
        if key_id not in notices:
            name = str(check.evidence.get("key") or key_id.rsplit("/", 1)[-1])
            arm_id = f"{(profile.keyvault_id or '').rstrip('/')}/keys/{name}"
            try:  # the read keyvault.key made, from the fleet's store
                reply = reads.arm_get(shared, arm_id, "key", f"the key {name}")
                body = reply.body if isinstance(reply.body, dict) else {}
            except Exception:  # noqa: BLE001 - keyvault.key already said why it could not read it
                continue
            properties = body.get("properties")
            if rotates(properties if isinstance(properties, dict) else {}):
                continue
            notices[key_id] = Notice(
                "key-expiry",
                profile.key_id or key_id,
                name,
                due,
                f"the key {name} of {arm_id.split('/keys/')[0].rsplit('/', 1)[-1]} expires on "
                f"{due:%Y-%m-%d %H:%M} UTC and no rotation policy rotates it",
            )
        notices[key_id].accounts.append(run.account.id)
    return sorted(notices.values(), key=lambda n: n.due)
