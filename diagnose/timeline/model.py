"""The values the timeline's sources, its merge and its renderers exchange."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from diagnose.model import Limitation

CHANGE = "change"
FAILURE = "failure"


@dataclass(frozen=True)
class Event:
    """One thing a service recorded: a change to an object of the chain, or a failure."""

    time: datetime
    source: str  # a Source.name
    actor: str
    operation: str
    object: str
    kind: str  # CHANGE or FAILURE
    detail: str = ""
    count: int = 1  # FAILURE: how many alike (same source, actor, operation, object) in a row
    last: datetime | None = None  # ... and the time of the last of them


@dataclass(frozen=True)
class Query:
    """A KQL query as the tool runs it, and where (so that it can be pasted in the portal)."""

    service: str  # "Log Analytics" | "Resource Graph"
    scope: str  # the workspace id, the resource id, or the subscription
    purpose: str
    text: str


@dataclass
class SourceReport:
    """What one source answered, how far back it reaches and how late its data arrives."""

    name: str
    title: str
    reach: str
    lag: str
    events: int = 0
    limitation: Limitation | None = None
    notes: list[str] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)


@dataclass(frozen=True)
class Targets:
    """The objects of the chain the profile names (None when it does not)."""

    principal_app_id: str | None
    vault_id: str | None
    key_arm_id: str | None
    cosmos_id: str | None
    subscription_id: str | None

    def arm_ids(self) -> list[str]:
        return [t for t in (self.vault_id, self.key_arm_id, self.cosmos_id) if t]


@dataclass
class Timeline:
    since: datetime
    until: datetime
    events: list[Event]
    sources: list[SourceReport]
    first_failure: Event | None = None
    blamed: Event | None = None  # the last change at or before the first failure

    @property
    def limitations(self) -> list[SourceReport]:
        return [s for s in self.sources if s.limitation is not None]

    @property
    def failures(self) -> list[Event]:
        return [e for e in self.events if e.kind == FAILURE]
