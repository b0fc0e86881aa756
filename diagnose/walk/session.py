"""The walkthrough: each step's text, its proof run live, the documented fix with consent, recovery, retest."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass

from diagnose import __version__, remediation
from diagnose.catalogue import Catalogue, Runbook, Step
from diagnose.checks import all_checks
from diagnose.checks.base import Context, RunOptions
from diagnose.errors import ToolLimitation
from diagnose.model import CheckResult, Status
from diagnose.profile import Profile
from diagnose.redact import redact_text
from diagnose.render import cause, run_text
from diagnose.render.run_json import check_to_json
from diagnose.runner import run
from diagnose.walk import fixes, recovery
from diagnose.walk.console import Console, Stop
from diagnose.walk.transcript import StepRecord, Transcript, named, subject_of

FAILING = (Status.FAIL, Status.ERROR)


@dataclass
class WalkOptions:
    fix: bool = False
    yes: bool = False
    wait_s: float = 3600.0
    trigger_deadline_s: float = 60.0
    # between polls for recovery (cli/walk.py passes progress.countdown_sleep)
    sleep: Callable[[float], None] = time.sleep


class Walk:
    def __init__(
        self,
        runbook: Runbook,
        catalogue: Catalogue,
        profile: Profile,
        options: WalkOptions,
        console: Console,
    ):
        self.runbook = runbook
        self.catalogue = catalogue
        self.profile = profile
        self.options = options
        self.console = console
        self.transcript = Transcript(runbook.id, profile.public(), catalogue.version)
        self.checks = all_checks(options.trigger_deadline_s)
        self.blocked_by_limitation = False
        self.read: dict[str, CheckResult] = {}
        """The latest result of every check the walk ran, whatever the step (fills the commands)."""

    # --- helpers ------------------------------------------------------------------------
    def new_context(self, trigger: bool = False) -> Context:
        return Context(
            self.profile,
            RunOptions(trigger=trigger, trigger_deadline_s=self.options.trigger_deadline_s),
        )

    def _subject_line(self) -> str:
        """What is walked and with which tool, the line a pasted console log starts from."""
        subject = subject_of(self.profile.public())
        shown = ", ".join(
            f"{label} {value}"
            for label, value in named(subject, ("tenant", "account", "vault", "campaign"))
        )
        tool = f"diagnose {__version__}, catalogue {self.catalogue.version}"
        return f"  {shown} ({tool})" if shown else f"  ({tool})"

    def _say_step(self, step: Step) -> None:
        style = self.console.style
        self.console.say("")
        self.console.say(style(f"Step {step.number}: {step.title}", bold=True))
        for paragraph in (step.text or "").split("\n\n"):
            if paragraph.strip():
                self.console.say(
                    textwrap.fill(
                        " ".join(paragraph.split()),
                        width=88,
                        initial_indent="  ",
                        subsequent_indent="  ",
                    )
                )

    def _prove(self, ctx: Context, step: Step) -> list[CheckResult]:
        selected = [c for c in self.checks if c.id in step.checks]
        results = run(self.checks, ctx, selected=selected)
        self.read.update((r.id, r) for r in results)
        shown = [r for r in results if r.id in step.checks]
        for result in shown:
            self.console.say(run_text.check_line(result, self.console.style))
        return shown

    def _consent(self, record: StepRecord, question: str) -> bool:
        if self.options.yes:
            self.transcript.decide(record, question, "yes (--yes)")
            return True
        answer = self.console.choose(question, {"y": "yes", "n": "no"}, "n")
        self.transcript.decide(record, question, "yes" if answer == "y" else "no")
        return answer == "y"

    def _remediation(self, results: list[CheckResult]) -> None:
        """The causes with the commands filled from what the walk read so far (the latest result
        of every check it ran, earlier steps' included), as `diagnose run` prints them; a value
        not read is a placeholder that says why (diagnose/remediation.py)."""
        read = list(self.read.values())
        self.console.causes(results, lambda entries: remediation.fill(entries, read, self.profile))

    # --- fixes --------------------------------------------------------------------------
    def _offer_fixes(self, ctx: Context, step: Step, record: StepRecord) -> bool:
        """True when a fix was applied."""
        available = fixes.plans(ctx, step.fixes)
        if not available:
            if step.fixes and any(
                f.code == "principal.deleted" for r in ctx.results.values() for f in r.findings
            ):
                self.console.say(
                    "  The principal is not in the directory's deleted items: it cannot be restored."
                )
                self.console.say(
                    "  Recreate the identity, grant it the key (step 2) and set it as the account's default identity (step 3)."
                )
            return False
        applied = False
        for plan in available:
            self.console.say("")
            self.console.say(self.console.style("A documented fix applies:", bold=True))
            self.console.say(textwrap.indent(plan.describe(self.profile.cloud.graph_url), "  "))
            entry = {
                "id": plan.fix.id,
                "target": plan.target,
                "applied": False,
                "detail": "",
                "request": plan.request(self.profile.cloud.graph_url),
            }
            if not self.options.fix:
                entry["detail"] = "offered; not applied (run with --fix to let diagnose apply it)"
                self.console.say(
                    "  Not applied: run the walk again with --fix to let diagnose apply it, or do it by hand."
                )
                self.transcript.fixed(record, entry)
                continue
            if not self._consent(record, f"Apply '{plan.fix.id}' to {plan.target}?"):
                entry["detail"] = "declined"
                self.transcript.fixed(record, entry)
                continue
            try:
                answer = fixes.apply(ctx, plan)
            except ToolLimitation as exc:
                reason = redact_text(exc.reason)
                entry["detail"] = f"refused: {reason}"
                self.console.say(f"  The fix was refused: {reason}.{cause.needs(exc.permission)}")
                self.transcript.fixed(record, entry)
                continue
            except Exception as exc:  # noqa: BLE001 - recorded and shown, the walk goes on
                entry["detail"] = f"failed: {redact_text(str(exc))[:300]}"
                self.console.say(f"  The fix failed: {entry['detail']}")
                self.transcript.fixed(record, entry)
                continue
            entry.update(applied=True, detail=answer)
            self.transcript.fixed(record, entry)
            self.console.say(self.console.style(f"  Applied ({answer}).", fg="green"))
            applied = True
        return applied

    def _wait_for_recovery(self, record: StepRecord) -> None:
        if self.profile.topology == "own" and not self.profile.cosmos_id:
            return
        if self.profile.topology == "adobe" and not self.profile.byok_config:
            return
        self.console.say("")
        self.console.say(
            self.console.style(
                "Waiting for the account to recover (read-only polling with backoff)...", bold=True
            )
        )
        result = recovery.wait(
            self.new_context,
            self.options.wait_s,
            lambda line: self.console.say(f"  {line}"),
            sleep=self.options.sleep,
        )
        self.transcript.waited(
            record,
            {
                "recovered": result.recovered,
                "waited_s": round(result.waited_s, 1),
                "polls": result.polls,
                "last_status": result.last_status,
            },
        )
        if result.recovered:
            self.console.say(
                self.console.style(
                    f"  Recovered after {result.waited_s:.1f} s ({result.last_status}).", fg="green"
                )
            )
        elif result.waited_s >= recovery.SUPPORT_AFTER_S:
            self.console.say(
                "  Still revoked after two hours: contact Microsoft support with the account name."
            )
        else:
            self.console.say(
                f"  Not recovered within --wait {self.options.wait_s:g} s (it can take up to an hour): "
                "run the walk again later; past two hours, contact Microsoft support."
            )

    # --- the walk -----------------------------------------------------------------------
    def run(self) -> Transcript:
        self.console.say(self._subject_line())
        try:
            self.transcript.final = self._walk()
        except Stop as stop:
            self.transcript.final = "stopped"
            self.transcript.notes.append(f"stopped: {stop}")
        except KeyboardInterrupt:
            self.transcript.final = "stopped"
            self.transcript.notes.append("interrupted (Ctrl-C)")
            raise
        return self.transcript

    def _walk(self) -> str:
        steps = list(self.runbook.steps)
        ctx = self.new_context()
        fixed = False
        i = 0
        while i < len(steps):
            step = steps[i]
            record = self.transcript.step(step.number, step.title)
            self._say_step(step)
            if "campaign.trigger" in step.checks:
                if self.options.fix:
                    question = "Send ONE real test call to the campaign now (a write)?"
                    ctx.options.trigger = self._consent(record, question)
                else:
                    self.console.say("  The test call is a write: it is offered only with --fix.")
            results = self._prove(ctx, step) if step.checks else []
            self._record_retest(results)
            statuses = {r.status for r in results}
            if not results or statuses <= {Status.SKIP}:
                question = "Nothing here can be proven automatically. Is this step done?"
                answer = self.console.choose(
                    question, {"y": "yes", "s": "skip", "b": "back", "q": "quit"}, "s"
                )
                self.transcript.decide(record, question, answer)
                if answer == "q":
                    record.status = "stopped"
                    return "stopped"
                if answer == "b":
                    i, ctx = max(0, i - 1), self.new_context()
                    continue
                record.status = "confirmed" if answer == "y" else "unconfirmed"
                i += 1
                continue
            if not statuses & set(FAILING):
                self.transcript.proved(record, "pass", [check_to_json(r) for r in results])
                i += 1
                continue
            self.transcript.proved(
                record,
                "fail" if Status.FAIL in statuses else "error",
                [check_to_json(r) for r in results],
            )
            self._remediation(results)
            if self._offer_fixes(ctx, step, record):
                fixed = True
                ctx = self.new_context()
                self.console.say("")
                self.console.say(
                    self.console.style(f"Checking step {step.number} again...", bold=True)
                )
                rerun = self._prove(ctx, step)
                healed = not {r.status for r in rerun} & set(FAILING)
                self.transcript.proved(
                    record, "pass" if healed else "fail", [check_to_json(r) for r in rerun]
                )
                if healed:
                    self._wait_for_recovery(record)
                    ctx = self.new_context()
                    i += 1
                    continue
            question = "This step fails."
            answer = self.console.choose(
                question,
                {
                    "r": "retry after fixing by hand",
                    "c": "continue anyway",
                    "b": "back",
                    "q": "quit",
                },
                "q",
            )
            self.transcript.decide(record, question, answer)
            if answer == "q":
                self.blocked_by_limitation = record.status == "error"
                return "unhealthy"
            ctx = self.new_context()
            if answer == "b":
                i = max(0, i - 1)
            elif answer == "c":
                i += 1
        healthy = all(s.status in ("pass", "confirmed") for s in self.transcript.steps)
        retest = self.transcript.retest
        if retest and not (200 <= int(retest.get("http_status") or 0) < 300):
            healthy = False
        if fixed and self.transcript.recovery and not self.transcript.recovery["recovered"]:
            healthy = False
        return "healthy" if healthy else "unhealthy"

    def _record_retest(self, results: list[CheckResult]) -> None:
        trigger = next(
            (r for r in results if r.id == "campaign.trigger" and r.status is not Status.SKIP), None
        )
        if trigger:
            self.transcript.retest = {
                "http_status": trigger.evidence.get("http_status"),
                "execution_id": trigger.evidence.get("executionId"),
            }
