"""A tiny feedback dataset written by hand, with its expected figures worked out by hand."""

from __future__ import annotations

import csv
import json
from pathlib import Path

CJM = "_experience.customerJourneyManagement"
STATUS = f"{CJM}.messageDeliveryfeedback.feedbackStatus"
REASON = f"{CJM}.messageDeliveryfeedback.messageFailure.reason"
EXECUTION = f"{CJM}.messageExecution.messageExecutionID"
CAMPAIGN = f"{CJM}.messageExecution.campaignID"
MESSAGE = f"{CJM}.messageExecution.messageID"
CHANNEL = f"{CJM}.messageProfile.channel._id"
COLUMNS = ["timestamp", STATUS, REASON, EXECUTION, CAMPAIGN, MESSAGE, CHANNEL]
EMAIL = "https://ns.adobe.com/xdm/channels/email"

# (time, status, reason, execution, message)
EVENTS = [
    ("2026-11-20T10:00:00Z", "sent", "", "UMA-1", "m1"),
    ("2026-11-20T10:00:10Z", "delivered", "", "UMA-1", "m1"),
    ("2026-11-20T10:00:30Z", "sent", "", "UMA-1", "m2"),
    ("2026-11-20T10:01:30Z", "delivered", "", "UMA-1", "m2"),
    ("2026-11-20T10:01:00Z", "sent", "", "UMA-1", "m3"),
    ("2026-11-20T10:01:05Z", "bounce", "Mailbox full", "UMA-1", "m3"),
    ("2026-11-20T10:00:01Z", "error", "Invalid email address", "UMA-1", "m4"),
    ("2026-11-20T11:00:00Z", "sent", "", "UMA-2", "m5"),
    ("2026-11-20T11:05:00Z", "delay", "Mailbox temporarily unavailable", "UMA-2", "m5"),
    ("2026-11-20T11:10:00Z", "delivered", "", "UMA-2", "m5"),
]
TRIGGERS = [("UMA-1", "2026-11-20T09:59:50Z"), ("UMA-2", "2026-11-20T10:59:00Z")]

EXPECTED_COUNTS = {"sent": 4, "delivered": 3, "bounce": 1, "delay": 1, "error": 1}
# continuous (interpolated) percentiles, worked out by hand
EXPECTED = {
    # spreads: UMA-1 0, 30, 60; UMA-2 0 -> [0, 0, 30, 60]
    "departure_spread": {"count": 4, "p50": 15.0, "p90": 51.0, "max": 60.0},
    # trigger -> departure: UMA-1 10, 40, 70; UMA-2 60 -> [10, 40, 60, 70]
    "trigger_to_departure": {"count": 4, "p50": 50.0, "p90": 67.0, "max": 70.0},
    # delivered: 10, 60, 600
    "departure_to_delivered": {"count": 3, "p50": 60.0, "p90": 492.0, "max": 600.0},
    "departure_to_bounce": {"count": 1, "p50": 5.0, "max": 5.0},
    "departure_to_delay": {"count": 1, "p50": 300.0, "max": 300.0},
}


def write_csv(path: Path, campaign: str = "camp-1", drop: str | None = None) -> Path:
    columns = [c for c in COLUMNS if c != drop]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for at, status, reason, execution, message in EVENTS:
            row = dict(
                zip(COLUMNS, [at, status, reason, execution, campaign, message, EMAIL], strict=True)
            )
            w.writerow([row[c] for c in columns])
    return path


def write_nested_jsonl(path: Path, campaign: str = "camp-1") -> Path:
    with path.open("w") as fh:
        for at, status, reason, execution, message in EVENTS:
            fb = {"feedbackStatus": status}
            if reason:
                fb["messageFailure"] = {"reason": reason}
            event = {
                "timestamp": at,
                "eventType": "message.feedback",
                "_experience": {
                    "customerJourneyManagement": {
                        "messageDeliveryfeedback": fb,
                        "messageExecution": {
                            "messageExecutionID": execution,
                            "campaignID": campaign,
                            "messageID": message,
                        },
                        "messageProfile": {"channel": {"_id": EMAIL}},
                    }
                },
            }
            fh.write(json.dumps(event) + "\n")
    return path


def write_triggers(path: Path) -> Path:
    if path.suffix == ".jsonl":
        path.write_text(
            "".join(json.dumps({"executionId": e, "requestedAt": t}) + "\n" for e, t in TRIGGERS)
        )
    else:
        path.write_text("executionId,requestedAt\n" + "".join(f"{e},{t}\n" for e, t in TRIGGERS))
    return path
