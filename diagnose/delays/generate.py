"""Seeded synthetic message feedback events, with an injected upstream or downstream delay.

Used by the tests and the benchmarks; also `python -m diagnose.delays.generate`.
The data are produced inside DuckDB from `range()` with hash-based randomness
(deterministic for a seed, no Python object per event), so ten million events
take seconds and little memory.

Each execution (`UMA-...`) sends `per_execution` messages of one campaign. A
message is `error` or `exclude` (never departs), or `sent` and then `delivered`,
`bounce`, or `delay` followed by `delivered`. Healthy timings: departure within
about 2 s of the trigger, throttled at `rate` (100) messages/s inside an execution;
delivery after a few seconds. `inject="upstream"` queues the chosen campaign's
messages before departure (minutes, growing along the execution);
`inject="downstream"` slows its delivery feedback by 20-60 minutes and makes
`delay` events common.
"""

from __future__ import annotations

import argparse
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

CHANNELS = ("email", "email", "email", "sms")
BOUNCE_REASONS = ("Invalid recipient", "Mailbox full", "Domain not found")
ERROR_REASONS = ("Invalid email address", "Missing channel data")

FORMATS = ("parquet", "jsonl", "csv")


@dataclass(frozen=True)
class Spec:
    events: int = 10_000  # approximate number of events
    campaigns: int = 4
    per_execution: int = 20
    seed: int = 7
    inject: str = "none"  # none | upstream | downstream
    inject_campaign: int = 1  # index of the campaign that suffers
    start: str = "2026-11-20T08:00:00+00:00"
    hours: float = 6.0
    rate: float = 100.0  # messages/s at which an execution's messages depart (healthy throttle)


def campaign_ids(spec: Spec) -> list[str]:
    """The campaigns' ids, stable for a seed."""
    ns = uuid.UUID(int=spec.seed)
    return [str(uuid.uuid5(ns, f"campaign-{i}")) for i in range(spec.campaigns)]


def _u(key: int, seed: int) -> str:
    """A uniform number in [0, 1) from the message number, the seed and a stream key."""
    return f"((hash(i, {int(seed)}, {key}) >> 11) / 9007199254740992.0)"


def _events_sql(spec: Spec) -> str:
    messages = max(1, round(spec.events / 2.0))
    executions = max(1, -(-messages // spec.per_execution))
    gap = spec.hours * 3600.0 / executions
    ids = ", ".join(f"'{c}'" for c in campaign_ids(spec))
    channels = ", ".join(
        f"'https://ns.adobe.com/xdm/channels/{CHANNELS[i % len(CHANNELS)]}'"
        for i in range(spec.campaigns)
    )
    up = spec.inject == "upstream"
    down = spec.inject == "downstream"
    start = datetime.fromisoformat(spec.start).timestamp()
    return f"""
WITH m AS (
  SELECT i, i // {spec.per_execution} AS ex, i % {spec.per_execution} AS pos,
         (i // {spec.per_execution}) % {spec.campaigns} AS c,
         {_u(1, spec.seed)} AS u_outcome, {_u(2, spec.seed)} AS u_fate, {_u(3, spec.seed)} AS u_queue,
         {_u(4, spec.seed)} AS u_lat, {_u(5, spec.seed)} AS u_reason, {_u(6, spec.seed)} AS u_extra
  FROM range({messages}) AS r(i)
), t AS (
  SELECT *, {start} + ex * {gap} AS trig,
         [{ids}][c + 1] AS campaign, [{channels}][c + 1] AS channel,
         'UMA-' || lpad(CAST(ex AS VARCHAR), 9, '0') AS execution,
         'msg-' || CAST(i AS VARCHAR) AS message,
         c = {spec.inject_campaign} AS hit
  FROM m
), d AS (
  SELECT *,
    trig + 0.2 + u_queue * 1.5 + pos * {1.0 / float(spec.rate)!r}
      + CASE WHEN hit AND {str(up).lower()} THEN 300 + u_extra * 900 + pos * 60 ELSE 0 END AS sent_at,
    0.5 - ln(1 - u_lat) * 3
      + CASE WHEN hit AND {str(down).lower()} THEN 1200 + u_extra * 2400 ELSE 0 END AS latency,
    CASE WHEN u_outcome < 0.015 THEN 'error' WHEN u_outcome < 0.025 THEN 'exclude' ELSE 'sent' END AS outcome,
    CASE WHEN u_fate < 0.03 THEN 'bounce'
         WHEN u_fate < CASE WHEN hit AND {str(down).lower()} THEN 0.30 ELSE 0.05 END THEN 'delay'
         ELSE 'delivered' END AS fate
  FROM t
), ev AS (
  SELECT d.*, 'sent' AS status, sent_at AS at_s, NULL AS reason FROM d WHERE outcome = 'sent'
  UNION ALL
  SELECT d.*, outcome, trig + 0.1 + u_queue, [{", ".join(f"'{r}'" for r in ERROR_REASONS)}][1 + CAST(floor(u_reason * {len(ERROR_REASONS)}) AS INTEGER)]
  FROM d WHERE outcome <> 'sent'
  UNION ALL
  SELECT d.*, 'bounce', sent_at + latency, [{", ".join(f"'{r}'" for r in BOUNCE_REASONS)}][1 + CAST(floor(u_reason * {len(BOUNCE_REASONS)}) AS INTEGER)]
  FROM d WHERE outcome = 'sent' AND fate = 'bounce'
  UNION ALL
  SELECT d.*, 'delay', sent_at + 60 + u_reason * 240 + latency / 2, 'Mailbox temporarily unavailable'
  FROM d WHERE outcome = 'sent' AND fate = 'delay'
  UNION ALL
  SELECT d.*, 'delivered', sent_at + latency + CASE WHEN fate = 'delay' THEN 600 ELSE 0 END, NULL
  FROM d WHERE outcome = 'sent' AND fate IN ('delivered', 'delay')
)
SELECT to_timestamp(at_s) AS ts, status, reason, execution, campaign, message, channel,
       'action-' || CAST(c AS VARCHAR) AS action, 'v1' AS version, 'batch-' || CAST(ex AS VARCHAR) AS batch,
       md5(CAST(i AS VARCHAR) || status) AS event_id
FROM ev
"""


_CJM = "_experience.customerJourneyManagement"
_FLAT = {
    "_id": "event_id",
    "timestamp": "ts",
    "eventType": "'message.feedback'",
    f"{_CJM}.messageDeliveryfeedback.feedbackStatus": "status",
    f"{_CJM}.messageDeliveryfeedback.messageFailure.reason": "reason",
    f"{_CJM}.messageExecution.messageExecutionID": "execution",
    f"{_CJM}.messageExecution.campaignID": "campaign",
    f"{_CJM}.messageExecution.campaignActionID": "action",
    f"{_CJM}.messageExecution.campaignVersionID": "version",
    f"{_CJM}.messageExecution.batchInstanceID": "batch",
    f"{_CJM}.messageExecution.messageID": "message",
    f"{_CJM}.messageProfile.channel._id": "channel",
}

_NESTED = """
event_id AS _id, {ts} AS "timestamp", 'message.feedback' AS eventType,
{{'customerJourneyManagement': {{
  'messageDeliveryfeedback': {{'feedbackStatus': status, 'messageFailure': {{'reason': reason}}}},
  'messageExecution': {{'messageExecutionID': execution, 'campaignID': campaign,
     'campaignActionID': action, 'campaignVersionID': version, 'batchInstanceID': batch,
     'messageID': message}},
  'messageProfile': {{'channel': {{'_id': channel}}}}}}}} AS _experience
"""

_ISO = "strftime(ts, '%Y-%m-%dT%H:%M:%S.%gZ')"


def write(path: Path, spec: Spec, fmt: str = "parquet", layout: str = "flat") -> dict:
    """Write the events to `path` in `fmt` (parquet|jsonl|csv) and `layout` (flat|nested)."""
    import duckdb

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    if layout == "nested" and fmt == "csv":
        raise ValueError("CSV exports are flat")
    ts = "ts" if fmt == "parquet" else _ISO
    if layout == "flat":
        columns = ", ".join(
            f'{ts if src == "ts" else src} AS "{name}"' for name, src in _FLAT.items()
        )
    else:
        columns = _NESTED.format(ts=ts)
    options = {"parquet": "FORMAT parquet", "jsonl": "FORMAT json", "csv": "FORMAT csv, HEADER"}[
        fmt
    ]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    sql = f"COPY (SELECT {columns} FROM ({_events_sql(spec)})) TO '{path}' ({options})"
    con.execute(sql)
    con.close()
    return {"path": str(path), "format": fmt, "layout": layout, **summary(spec)}


def write_trigger_log(path: Path, spec: Spec) -> None:
    """The trigger log a caller would have kept: executionId and the time it was requested (CSV)."""
    import duckdb

    messages = max(1, round(spec.events / 2.0))
    executions = max(1, -(-messages // spec.per_execution))
    gap = spec.hours * 3600.0 / executions
    start = datetime.fromisoformat(spec.start).timestamp()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        f"""COPY (SELECT 'UMA-' || lpad(CAST(ex AS VARCHAR), 9, '0') AS executionId,
                  strftime(to_timestamp({start} + ex * {gap}), '%Y-%m-%dT%H:%M:%S.%gZ') AS requestedAt
                  FROM range({executions}) AS r(ex))
            TO '{path}' (FORMAT csv, HEADER)"""
    )
    con.close()


def summary(spec: Spec) -> dict:
    """What a test needs to know: the campaigns and which one carries the injected delay."""
    ids = campaign_ids(spec)
    injected = ids[spec.inject_campaign] if spec.inject != "none" else None
    return {"spec": asdict(spec), "campaigns": ids, "injected_campaign": injected}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--events", type=int, default=Spec.events)
    parser.add_argument("--campaigns", type=int, default=Spec.campaigns)
    parser.add_argument("--per-execution", type=int, default=Spec.per_execution)
    parser.add_argument("--seed", type=int, default=Spec.seed)
    parser.add_argument("--inject", choices=("none", "upstream", "downstream"), default="none")
    parser.add_argument("--inject-campaign", type=int, default=Spec.inject_campaign)
    parser.add_argument("--rate", type=float, default=Spec.rate, help="messages/s per execution")
    parser.add_argument("--format", choices=FORMATS, default="parquet")
    parser.add_argument("--layout", choices=("flat", "nested"), default="flat")
    parser.add_argument("--trigger-log", type=Path)
    args = parser.parse_args(argv)
    spec = Spec(
        events=args.events,
        campaigns=args.campaigns,
        per_execution=args.per_execution,
        seed=args.seed,
        inject=args.inject,
        inject_campaign=args.inject_campaign,
        rate=args.rate,
    )
    info = write(args.out, spec, args.format, args.layout)
    if args.trigger_log:
        write_trigger_log(args.trigger_log, spec)
    info["generated_at"] = datetime.now(UTC).isoformat()
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
