"""What the analysis returns: aggregates only, per group, execution and time bucket."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UPSTREAM_MEASURES = ("trigger_to_departure", "departure_spread")  # first present wins
DOWNSTREAM_MEASURE = "departure_to_delivered"


def short_channel(channel_id: str) -> str:
    """`https://ns.adobe.com/xdm/channels/email` -> `email`."""
    return channel_id.rstrip("/").rsplit("/", 1)[-1] or channel_id


@dataclass
class Group:
    campaign: str
    channel_id: str
    counts: dict[str, int] = field(default_factory=dict)
    percentiles: dict[str, dict[str, float]] = field(default_factory=dict)
    histogram: dict[str, list[int]] = field(default_factory=dict)
    reasons: list[dict[str, Any]] = field(default_factory=list)
    verdict: str = "none"
    judged: dict[str, Any] = field(default_factory=dict)
    executions: int = 0  # executions with a sent message
    single_executions: int = 0  # ... of which sent exactly one
    max_spread: float = 0.0  # the largest departure spread of any message (seconds)
    spread_excess: dict[str, float] = field(default_factory=dict)  # p50/p90/p99 beyond allowance
    upstream_measured: bool = True

    @property
    def spread_meaningful(self) -> bool:
        """Whether departure spreads can show an upstream delay at all.

        Not when more than half the executions sent a single message (the median
        execution has nothing to spread), nor when no message left after the first
        of its execution (every spread 0): API-triggered unitary executions
        (1-20 recipients) depart together, delayed or not.
        """
        if not self.executions:
            return False
        return 2 * self.single_executions <= self.executions and self.max_spread > 0

    @property
    def channel(self) -> str:
        return short_channel(self.channel_id)

    @property
    def upstream_measure(self) -> str | None:
        return next((m for m in UPSTREAM_MEASURES if m in self.percentiles), None)


@dataclass
class Execution:
    campaign: str
    channel_id: str
    execution: str
    first_departure: float
    sent: int
    departure_spread: float | None
    trigger_to_departure: float | None
    departure_to_delivered: float | None


@dataclass
class TimePoint:
    campaign: str
    measure: str
    start: float
    width: float
    n: int
    p50: float
    p90: float
    max: float


@dataclass
class Analysis:
    events: int
    first_ts: float
    last_ts: float
    groups: list[Group]
    slowest: list[Execution]
    timeline: list[TimePoint]
    sql: dict[str, str]
    dialect: str
    with_triggers: bool = False
