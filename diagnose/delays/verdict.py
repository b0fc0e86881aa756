"""The check: judge each campaign/channel group upstream, downstream or none.

Upstream (before departure) is measured by `trigger_to_departure` when a trigger
log names the group's executions, otherwise by `departure_spread` (a message's
departure minus the first departure of its execution: an execution whose
messages leave over minutes was queued or throttled). The spread is judged
*beyond the send-rate allowance*: an execution of n messages may take
(n - 1) / send_rate seconds (`--send-rate`, default 500/s, the standard campaign
limit) to depart, so a large audience sent at full speed is not "upstream".
Without a trigger log, groups whose executions are too small for a spread
(median execution of one message, or every spread 0: unitary API calls depart
together) have their upstream side *not measured* (`upstream_measured: false`),
never "none" by default of evidence. Downstream (after
departure) is `departure_to_delivered`, and the share of `delay` events among
sent messages. A side is abnormal when its chosen percentile exceeds its
threshold (or the delay rate exceeds its own). When both sides are abnormal,
`verdict` names the one furthest above its threshold; both become findings.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnose.delays.result import DOWNSTREAM_MEASURE, Group
from diagnose.model import Finding, Severity

UPSTREAM, DOWNSTREAM, NONE = "upstream", "downstream", "none"


@dataclass(frozen=True)
class Thresholds:
    upstream: float = 300.0  # seconds before departure
    downstream: float = 900.0  # seconds from departure to delivered
    delay_rate: float = 0.05  # delay events per sent message
    percentile: str = "p90"
    send_rate: float = 500.0  # messages/s an execution may take to depart (spread allowance)

    def to_json(self) -> dict[str, float | str]:
        return {
            "upstream_seconds": self.upstream,
            "downstream_seconds": self.downstream,
            "delay_rate": self.delay_rate,
            "percentile": self.percentile,
            "send_rate_per_second": self.send_rate,
        }


NOT_MEASURED = (
    "not measured: the executions are too small for a spread of departures "
    "(median one message, or all depart at once); pass --trigger-log to measure "
    "trigger -> departure"
)


def judge(group: Group, limits: Thresholds) -> list[Finding]:
    """Set `group.verdict` and `group.judged`; return the findings (cause codes of `delivery-delays`)."""
    pct = limits.percentile
    where = f"campaign {group.campaign} ({group.channel})"
    findings: list[tuple[float, str, Finding]] = []
    judged: dict[str, dict] = {}

    measure = group.upstream_measure
    group.upstream_measured = bool(measure)
    if measure == "departure_spread" and not group.spread_meaningful:
        group.upstream_measured = False
        judged[UPSTREAM] = {
            "measure": measure,
            "measured": False,
            "reason": NOT_MEASURED,
            "executions": group.executions,
            "single_message_executions": group.single_executions,
        }
    elif measure:
        value = group.percentiles[measure][pct]
        judged[UPSTREAM] = {
            "measure": measure,
            "measured": True,
            "percentile": pct,
            "seconds": value,
            "threshold_seconds": limits.upstream,
            "abnormal": value > limits.upstream,
        }
        if measure == "departure_spread":  # judged beyond the send-rate allowance
            value = group.spread_excess.get(pct, value)
            judged[UPSTREAM].update(
                spread_seconds=judged[UPSTREAM]["seconds"],
                seconds=value,
                beyond="(messages in the execution - 1) / send_rate",
                send_rate_per_second=limits.send_rate,
                abnormal=value > limits.upstream,
            )
        if value > limits.upstream:
            findings.append(
                (
                    value / limits.upstream,
                    UPSTREAM,
                    Finding(
                        code="delays.upstream",
                        message=f"{where}: {pct} {measure.replace('_', ' ')}"
                        + (
                            " beyond the send-rate allowance"
                            if measure == "departure_spread"
                            else ""
                        )
                        + f" {_s(value)} > {_s(limits.upstream)}",
                        severity=Severity.FAIL,
                        evidence={
                            "campaign": group.campaign,
                            "channel": group.channel,
                            **judged[UPSTREAM],
                        },
                    ),
                )
            )

    sent = group.counts.get("sent", 0)
    rate = group.counts.get("delay", 0) / sent if sent else 0.0
    late = group.percentiles.get(DOWNSTREAM_MEASURE, {}).get(pct)
    late_bad = late is not None and late > limits.downstream
    rate_bad = rate > limits.delay_rate
    if late is not None or sent:
        judged[DOWNSTREAM] = {
            "measure": DOWNSTREAM_MEASURE,
            "percentile": pct,
            "seconds": late,
            "threshold_seconds": limits.downstream,
            "delay_rate": round(rate, 6),
            "delay_rate_threshold": limits.delay_rate,
            "abnormal": late_bad or rate_bad,
        }
    if late_bad or rate_bad:
        parts = []
        if late is not None and late_bad:
            parts.append(f"{pct} departure to delivered {_s(late)} > {_s(limits.downstream)}")
        if rate_bad:
            parts.append(f"delay events {rate:.1%} of sent > {limits.delay_rate:.1%}")
        excess = max(
            (late or 0) / limits.downstream, rate / limits.delay_rate if limits.delay_rate else 0
        )
        findings.append(
            (
                excess,
                DOWNSTREAM,
                Finding(
                    code="delays.downstream",
                    message=f"{where}: {'; '.join(parts)}",
                    severity=Severity.FAIL,
                    evidence={
                        "campaign": group.campaign,
                        "channel": group.channel,
                        **judged[DOWNSTREAM],
                    },
                ),
            )
        )

    findings.sort(key=lambda f: -f[0])
    group.verdict = findings[0][1] if findings else NONE
    group.judged = judged
    return [f for _, _, f in findings]


def _s(seconds: float) -> str:
    """Seconds for people: 42 s, 7.5 min, 2.1 h."""
    if abs(seconds) < 120:
        return f"{seconds:.1f} s"
    if abs(seconds) < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


human = _s
