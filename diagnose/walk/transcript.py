"""What a walkthrough did, for the incident ticket: Markdown, or JSON (`diagnose/walk@1`). No secrets.

Every proof, decision, fix and wait for recovery gets the next number of one sequence
(`seq`) as it is recorded, so both forms tell them in the order they happened: a
decision comes before the fix it allowed and the re-check that followed. Request
bodies are JSON, as they are sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

from diagnose import __version__
from diagnose.files import write_atomic
from diagnose.redact import redact_obj
from diagnose.render.markdown import cell
from diagnose.render.safe import escaped
from diagnose.walk.fixes import body_json

SCHEMA = "diagnose/walk@1"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def subject_of(profile: dict[str, str]) -> dict[str, str | None]:
    """What the walk looked at, from the profile's identifiers: tenant, account, vault, campaign."""

    def last(arm_id: str | None) -> str | None:
        return arm_id.rstrip("/").rsplit("/", 1)[-1] if arm_id else None

    return {
        "tenant": profile.get("tenant_id"),
        "subscription": profile.get("subscription_id"),
        "topology": profile.get("topology", "own"),
        "account": last(profile.get("cosmos_id")),
        "vault": last(profile.get("keyvault_id")),
        "key": profile.get("key_id"),
        "campaign": profile.get("campaign_id"),
        "sandbox": profile.get("sandbox"),
        "ims_org": profile.get("ims_org"),
    }


SUBJECT_LABELS = {
    "tenant": "tenant",
    "subscription": "subscription",
    "topology": "topology",
    "account": "Cosmos DB account",
    "vault": "Key Vault",
    "key": "key",
    "campaign": "campaign",
    "sandbox": "sandbox",
    "ims_org": "IMS org",
}


def named(
    subject: dict[str, str | None], keys: tuple[str, ...] = tuple(SUBJECT_LABELS)
) -> list[tuple[str, str]]:
    """(label, value) of the subject's `keys` that the profile names, in that order."""
    return [(SUBJECT_LABELS[k], value) for k in keys if (value := subject.get(k))]


@dataclass
class StepRecord:
    step: int
    title: str
    status: str = "pending"  # pass | fail | error | skipped | confirmed | unconfirmed | stopped
    checks: list[dict[str, Any]] = field(default_factory=list)  # the last proof
    decisions: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)  # every proof, in order


@dataclass
class Transcript:
    runbook: str
    profile: dict[str, str]
    catalogue: str = "unversioned"
    started_at: str = field(default_factory=now_iso)
    steps: list[StepRecord] = field(default_factory=list)
    fixes: list[dict[str, Any]] = field(default_factory=list)
    recovery: dict[str, Any] | None = None
    retest: dict[str, Any] | None = None
    final: str = "stopped"
    notes: list[str] = field(default_factory=list)
    _seq: count[int] = field(default_factory=lambda: count(1), repr=False)

    def step(self, number: int, title: str) -> StepRecord:
        record = next((s for s in self.steps if s.step == number), None)
        if record is None:
            record = StepRecord(number, title)
            self.steps.append(record)
            self.steps.sort(key=lambda s: s.step)
        return record

    def _stamp(self) -> dict[str, Any]:
        return {"seq": next(self._seq), "at": now_iso()}

    def proved(self, record: StepRecord, status: str, checks: list[dict[str, Any]]) -> None:
        """A proof of `record`'s step, run now: its status and every check's result."""
        record.status, record.checks = status, checks
        record.attempts.append({**self._stamp(), "status": status, "checks": checks})

    def decide(self, record: StepRecord, question: str, answer: str) -> None:
        record.decisions.append({**self._stamp(), "question": question, "answer": answer})

    def fixed(self, record: StepRecord, entry: dict[str, Any]) -> None:
        """A fix offered at `record`'s step: applied or not, with its request and what came of it."""
        self.fixes.append({**entry, **self._stamp(), "step": record.step})

    def waited(self, record: StepRecord, recovery: dict[str, Any]) -> None:
        """The wait for the account to recover, after a fix at `record`'s step."""
        self.recovery = {**recovery, **self._stamp(), "step": record.step}

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "schema": SCHEMA,
            "version": __version__,
            "catalogue": self.catalogue,
            "runbook": self.runbook,
            "started_at": self.started_at,
            "ended_at": now_iso(),
            "subject": subject_of(self.profile),
            "profile": self.profile,
            "steps": [
                {
                    "step": s.step,
                    "title": s.title,
                    "status": s.status,
                    "checks": s.checks,
                    "decisions": s.decisions,
                    "attempts": s.attempts,
                }
                for s in self.steps
            ],
            "fixes": self.fixes,
            "recovery": self.recovery,
            "retest": self.retest,
            "final": self.final,
            "notes": self.notes,
        }
        return redact_obj(document)

    def to_markdown(self) -> str:
        data = self.to_json()
        out = [f"## Runbook walk: `{self.runbook}`: {data['final'].upper()}", ""]
        out += _header(data)
        for s in data["steps"]:
            out.append(f"### Step {s['step']}: {s['title']} ({s['status']})")
            events = [("proof", a) for a in s["attempts"]] + [
                ("decision", d) for d in s["decisions"]
            ]
            events += [("fix", f) for f in data["fixes"] if f["step"] == s["step"]]
            recovery = data["recovery"]
            if recovery and recovery["step"] == s["step"]:
                events.append(("recovery", recovery))
            for kind, event in sorted(events, key=lambda e: e[1]["seq"]):
                out += _EVENT[kind](event)
            out.append("")
        if data["retest"]:
            out += [
                f"Retest: HTTP {data['retest']['http_status']}, executionId {data['retest']['execution_id']}.",
                "",
            ]
        out += [f"- {n}" for n in data["notes"]]
        return "\n".join(out).rstrip() + "\n"

    def write(self, path: Path) -> None:
        text = (
            json.dumps(self.to_json(), indent=2, default=str) + "\n"
            if path.suffix == ".json"
            else self.to_markdown()
        )
        write_atomic(path, escaped(text))  # service data: no control character reaches a file


def _header(data: dict[str, Any]) -> list[str]:
    """Who and what was walked, with which tool, as a two-column table."""
    rows = named(data["subject"])
    rows += [
        ("diagnose", f"{data['version']}, catalogue {data['catalogue']}"),
        ("started", data["started_at"]),
        ("ended", data["ended_at"]),
    ]
    table = ["| | |", "|---|---|"]
    table += [f"| {name} | {cell(value)} |" for name, value in rows]
    return [*table, ""]


def _proof(a: dict[str, Any]) -> list[str]:
    out = [f"- {a['at']} proof: **{a['status']}**"]
    for c in a["checks"]:
        out.append(f"  - `{c['id']}` {c['status']}: {c['summary']}")
        out += [f"    - `{f['code']}`: {f['message']}" for f in c.get("findings", [])]
    return out


def _decision(d: dict[str, Any]) -> list[str]:
    return [f"- {d['at']} decision: {d['question']} -> **{d['answer']}**"]


def _fix(f: dict[str, Any]) -> list[str]:
    state = "applied" if f["applied"] else "not applied"
    detail = f" ({f['detail']})" if f.get("detail") else ""
    out = [f"- {f['at']} fix `{f['id']}` on {f['target']}: {state}{detail}"]
    request = f.get("request")
    if request:
        out.append(f"  - request: `{request['method']} {request['url']}`")
        if request["body"] is not None:
            out.append(f"  - body: `{body_json(request['body'])}`")
    return out


def _recovery(r: dict[str, Any]) -> list[str]:
    state = "recovered" if r["recovered"] else "not recovered"
    return [
        f"- {r['at']} recovery: {state} after {r['waited_s']} s ({r['polls']} looks; last: {r['last_status']})"
    ]


_EVENT = {"proof": _proof, "decision": _decision, "fix": _fix, "recovery": _recovery}
