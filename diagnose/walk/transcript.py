"""What a walkthrough did, for the incident ticket: Markdown, or JSON (`diagnose/walk@1`). No secrets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from diagnose.files import write_atomic
from diagnose.redact import redact_obj
from diagnose.render.safe import escaped

SCHEMA = "diagnose/walk@1"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class StepRecord:
    step: int
    title: str
    status: str = "pending"  # pass | fail | error | skipped | confirmed | unconfirmed | stopped
    checks: list[dict[str, Any]] = field(default_factory=list)  # the last proof
    decisions: list[dict[str, str]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)  # every proof, in order

    def proved(self, status: str, checks: list[dict[str, Any]]) -> None:
        self.status, self.checks = status, checks
        self.attempts.append({"at": now_iso(), "status": status, "checks": checks})


@dataclass
class Transcript:
    runbook: str
    profile: dict[str, str]
    started_at: str = field(default_factory=now_iso)
    steps: list[StepRecord] = field(default_factory=list)
    fixes: list[dict[str, Any]] = field(default_factory=list)
    recovery: dict[str, Any] | None = None
    retest: dict[str, Any] | None = None
    final: str = "stopped"
    notes: list[str] = field(default_factory=list)

    def step(self, number: int, title: str) -> StepRecord:
        record = next((s for s in self.steps if s.step == number), None)
        if record is None:
            record = StepRecord(number, title)
            self.steps.append(record)
            self.steps.sort(key=lambda s: s.step)
        return record

    def decide(self, record: StepRecord, question: str, answer: str) -> None:
        record.decisions.append({"at": now_iso(), "question": question, "answer": answer})

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "schema": SCHEMA,
            "runbook": self.runbook,
            "started_at": self.started_at,
            "ended_at": now_iso(),
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
        out = [
            f"## Runbook walk: `{self.runbook}`: {data['final'].upper()}",
            "",
            f"Started {data['started_at']}, ended {data['ended_at']}.",
            "",
        ]
        for s in data["steps"]:
            out.append(f"### Step {s['step']}: {s['title']} ({s['status']})")
            for n, attempt in enumerate(s["attempts"], 1):
                if len(s["attempts"]) > 1:
                    out.append(f"- proof {n} at {attempt['at']}: {attempt['status']}")
                for c in attempt["checks"]:
                    out.append(f"  - `{c['id']}` {c['status']}: {c['summary']}")
                    out += [f"    - `{f['code']}`: {f['message']}" for f in c.get("findings", [])]
            out += [
                f"- decision at {d['at']}: {d['question']} -> **{d['answer']}**"
                for d in s["decisions"]
            ]
            out.append("")
        if data["fixes"]:
            out += ["### Fixes", ""]
            out += [
                f"- `{f['id']}` on {f['target']}: {'applied' if f['applied'] else 'not applied'} at {f['at']}"
                + (f" ({f['detail']})" if f.get("detail") else "")
                for f in data["fixes"]
            ]
            out.append("")
        if data["recovery"]:
            r = data["recovery"]
            out += [
                f"Recovery: {'recovered' if r['recovered'] else 'not recovered'} after {r['waited_s']} s ({r['polls']} looks; last: {r['last_status']}).",
                "",
            ]
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
