"""Client-side pacing of ARM reads for the fleet, per subscription, from what ARM says.

ARM throttles reads per subscription and principal (a token bucket) and says how many are left
in `x-ms-ratelimit-remaining-subscription-reads` on every answer; past it, 429 with `Retry-After`
(https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling).
Without pacing, 16 workers that all see "3 left" all send, most meet a 429, and an account whose
read meets three of them in a row is undecided although waiting a second would have decided it.

`Pacer` keeps, per subscription, the reads ARM said were left and when it may be asked again:
- a 429's `Retry-After` pauses the subscription for everyone (one worker learns it, none of the
  others spends a request, or a retry, to learn it again);
- no more requests are in flight than ARM last said are left (at least one: its answer says how
  many the bucket has refilled); an answer saying none is left pauses the subscription 1 s;
- a request waits for its subscription only while the wait fits the time left (diagnose.deadline);
  otherwise it is sent and whatever ARM answers is reported as usual;
- a read answered 429 is sent again after the pause (up to PACED_RESENDS times, while the wait
  fits the time left) before the retry policy counts it as an attempt.
`PacingPolicy` applies it to the fleet's ARM client (an azure-core policy, inside the retry policy,
so a retry is paced too). The scheduler (schedule.py) asks `paused()` before starting an account
and starts one of a subscription that is not paused, so a paused subscription never holds the
workers that other subscriptions' accounts could use.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from diagnose import deadline

if TYPE_CHECKING:
    from azure.core.pipeline import PipelineRequest, PipelineResponse

REMAINING = "x-ms-ratelimit-remaining-subscription-reads"
_SUBSCRIPTION = re.compile(r"/subscriptions/([^/?]+)", re.I)
WAIT_STEP_S = 0.05
# After an answer that says no read is left: ARM refills continuously but states no rate in its
# answers, so the pause is a decision of the tool (1 s, the pause a 429 without Retry-After gets).
EMPTY_PAUSE_S = 1.0
# 429s a paced read waits out before the retry policy sees one: answers that arrive out of order
# can meet a bucket emptied by the others' reads several times in a row (the bound is a decision
# of the tool, not ARM's; the fleet's --timeout bounds every wait anyway).
PACED_RESENDS = 8


@dataclass
class _Budget:
    remaining: int | None = None  # as ARM last said
    paused_until: float = 0.0
    in_flight: int = 0


class Pacer:
    """What ARM said of each subscription's reads, shared by every worker of the fleet."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._subs: dict[str, _Budget] = {}
        self.waited_s = 0.0  # total time requests waited (for the report and benchmarks)
        self.pauses = 0  # 429s that paused a subscription

    def _budget(self, subscription: str) -> _Budget:
        return self._subs.setdefault(subscription.lower(), _Budget())

    def paused(self, subscription: str, now: float | None = None) -> float:
        """Seconds until `subscription` may be read again (0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return max(0.0, self._budget(subscription).paused_until - now)

    def _blocked(self, b: _Budget, now: float) -> float:
        if b.paused_until > now:
            return b.paused_until - now
        if b.remaining is not None and b.in_flight >= max(1, b.remaining):
            return WAIT_STEP_S
        return 0.0

    def acquire(self, subscription: str) -> None:
        """Wait (while it fits the deadline) until a read of `subscription` may go; count it."""
        started = time.monotonic()
        with self._lock:
            b = self._budget(subscription)
            while True:
                wait = self._blocked(b, time.monotonic())
                if wait <= 0 or not deadline.fits(wait, margin_s=0.5):
                    break
                self._lock.wait(min(wait, 1.0))
            b.in_flight += 1
            self.waited_s += time.monotonic() - started

    def release(self, subscription: str, status: int | None, headers: Any) -> None:
        """Learn from ARM's answer (None: no answer) and let the next request go."""
        now = time.monotonic()
        with self._lock:
            b = self._budget(subscription)
            b.in_flight = max(0, b.in_flight - 1)
            left = _int(headers.get(REMAINING)) if headers is not None else None
            if left is not None:
                b.remaining = left
            if status == 429:
                after = _int(headers.get("Retry-After")) if headers is not None else None
                b.paused_until = max(b.paused_until, now + float(after if after else 1))
                b.remaining = 0
                self.pauses += 1
            elif left == 0:  # the last read: the next would be a 429; wait for the refill
                b.paused_until = max(b.paused_until, now + EMPTY_PAUSE_S)
            elif left is not None:
                b.paused_until = min(b.paused_until, now)
            self._lock.notify_all()


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def subscription_of(url: str) -> str | None:
    m = _SUBSCRIPTION.search(url)
    return m.group(1) if m else None


def policy(pacer: Pacer) -> Any:
    """An azure-core policy that paces the ARM reads through `pacer`."""
    from azure.core.pipeline.policies import HTTPPolicy

    class PacingPolicy(HTTPPolicy):
        def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
            http = request.http_request
            sub = subscription_of(http.url) if http.method == "GET" else None
            if sub is None:
                return self.next.send(request)
            for _ in range(PACED_RESENDS + 1):
                pacer.acquire(sub)
                status, headers = None, None
                try:
                    response = self.next.send(request)
                    status, headers = (
                        response.http_response.status_code,
                        response.http_response.headers,
                    )
                finally:
                    pacer.release(sub, status, headers)
                # A 429 paused the subscription: wait it out here (acquire) while the budget
                # allows, instead of spending one of the retry policy's attempts on each.
                if status != 429 or not deadline.fits(pacer.paused(sub), margin_s=0.5):
                    break
            return response

    return PacingPolicy()
