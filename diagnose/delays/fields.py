"""The fields of the AJO Message Feedback Event Dataset that the analysis reads.

Exports come *flat* (one column per field, named by its dotted path, as CSV and
Parquet exports do) or *nested* (`_experience` objects, as JSON exports and
Query Service expose them). `resolve` finds which form a source has, field by
field, by asking the backend whether a candidate expression binds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from diagnose.errors import InputError

TABLE = "ajo_message_feedback_event_dataset"
_CJM = "_experience.customerJourneyManagement"


@dataclass(frozen=True)
class Field:
    name: str  # canonical column name inside the analysis
    path: str  # the dataset's field path
    required: bool = True
    kind: str = "text"  # "text" or "timestamp"


FIELDS: tuple[Field, ...] = (
    Field("ts", "timestamp", kind="timestamp"),
    Field("status", f"{_CJM}.messageDeliveryfeedback.feedbackStatus"),
    Field("reason", f"{_CJM}.messageDeliveryfeedback.messageFailure.reason", required=False),
    Field("execution_id", f"{_CJM}.messageExecution.messageExecutionID"),
    Field("campaign_id", f"{_CJM}.messageExecution.campaignID"),
    Field("message_id", f"{_CJM}.messageExecution.messageID"),
    Field("channel", f"{_CJM}.messageProfile.channel._id", required=False),
)

FLAT, NESTED = "flat", "nested"

# kind of a probed column: "timestamp", "text", "number", "other"; None when it does not bind
Probe = Callable[[str, str], str | None]


@dataclass(frozen=True)
class Resolved:
    """Where each field lives in one source: its layout (flat/nested) and probed kind."""

    layouts: dict[str, str | None]  # canonical name -> FLAT, NESTED, or None (optional and absent)
    kinds: dict[str, str]

    def required(self, name: str) -> str:
        """The layout of a required field (`resolve` refuses a source that lacks one)."""
        layout = self.layouts[name]
        if layout is None:
            raise LookupError(f"field {name!r} is optional and this source lacks it")
        return layout


def resolve(probe: Probe, where: str, prefer: str = FLAT) -> Resolved:
    """Find every field (flat or nested) with `probe(path, layout)`; raise InputError naming what is missing."""
    order = (prefer, NESTED if prefer == FLAT else FLAT)
    layouts: dict[str, str | None] = {}
    kinds: dict[str, str] = {}
    missing: list[str] = []
    for field in FIELDS:
        for layout in order:
            kind = probe(field.path, layout)
            if kind is not None:
                layouts[field.name], kinds[field.name] = layout, kind
                break
        else:
            layouts[field.name] = None
            if field.required:
                missing.append(field.path)
    if missing:
        raise InputError(
            f"{where}: missing column(s) {', '.join(missing)} "
            "(looked for flat dotted column names and nested objects)"
        )
    ts_kind = kinds["ts"]
    if ts_kind not in ("timestamp", "text"):
        raise InputError(
            f"{where}: column 'timestamp' has a {ts_kind} type; expected a timestamp "
            "(or ISO-8601 text)"
        )
    return Resolved(layouts, kinds)
