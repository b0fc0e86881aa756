"""Wait, without hammering, for the account to leave the revoked state after a fix."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from diagnose.checks import reads
from diagnose.checks.base import Context
from diagnose.checks.cosmos import HEALTHY_STATUS, revoked_code
from diagnose.redact import redact_text

FIRST_INTERVAL_S = 0.5
MAX_INTERVAL_S = 60.0
SUPPORT_AFTER_S = 2 * 3600


@dataclass
class Recovery:
    recovered: bool
    waited_s: float
    polls: int
    last_status: str


def _status(ctx: Context) -> tuple[bool, str]:
    """(healthy, what was read): the Cosmos account's CMK status, or the BYOK status in topology adobe."""
    if ctx.profile.topology == "adobe":
        name = ctx.require("byok_config", "BYOK configuration name")
        status = str(ctx.adobe.byok_config(name).get("status") or "")
        return status.upper() == "COMPLETED", f"BYOK status {status}"
    cosmos_id = ctx.require("cosmos_id", "Cosmos DB account resource id")
    reply = reads.arm_get(
        ctx, cosmos_id, "cosmos", "the Cosmos DB account"
    )  # 401/403: a limitation
    if reply.status != 200:
        raise RuntimeError(f"ARM answered {reply.status} for the account")
    text = str(((reply.body or {}).get("properties") or {}).get("customerManagedKeyStatus") or "")
    if not text:
        raise RuntimeError("the account reports no customerManagedKeyStatus to wait on")
    code = revoked_code(text)
    return HEALTHY_STATUS in text.lower(), f"revoked ({code})" if code else text[:120]


def wait(
    new_context: Callable[[], Context],
    bound_s: float,
    progress: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> Recovery:
    """Poll with exponential backoff (0.5 s doubling to 60 s) until healthy or `bound_s` has passed."""
    started = time.monotonic()
    interval = FIRST_INTERVAL_S
    polls = 0
    last = ""
    while True:
        polls += 1
        try:
            healthy, last = _status(new_context())  # a fresh context: no memoized read
        except Exception as exc:  # noqa: BLE001 - a read that cannot answer ends the wait, saying why
            reason = f"stopped waiting: {redact_text(str(exc))[:200]}"
            return Recovery(False, time.monotonic() - started, polls, reason)
        waited = time.monotonic() - started
        if healthy:
            return Recovery(True, waited, polls, last)
        remaining = bound_s - waited
        if remaining <= 0:
            return Recovery(False, waited, polls, last)
        pause = min(interval, remaining)
        hint = " (recovery can take up to an hour; past two hours, contact Microsoft support)"
        progress(
            f"waiting for recovery: {last}; {waited:.0f} s so far, next look in {pause:.1f} s{hint if polls == 1 else ''}"
        )
        sleep(pause)
        interval = min(interval * 2, MAX_INTERVAL_S)
