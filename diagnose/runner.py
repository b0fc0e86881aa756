"""Run checks as a dependency graph: concurrently, each under a deadline, the whole run under a budget.

The graph comes from the checks' declarations (`needs`, `after`) and is ordered
by the standard library's `graphlib`: a cycle, or a need on a check that does not
exist, is refused before anything runs (`CheckGraphError`). A check starts as
soon as the checks it waits for have finished (whatever their status: a check
decides for itself whether what it needs is available); one whose need was
skipped by the user is skipped saying so. A check that raises becomes `error`
without stopping the others; one that overruns its deadline is reported as
`error` and left behind (its late result is ignored); a finding whose cause the
check did not declare turns its result into `error`.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from graphlib import CycleError, TopologicalSorter

from diagnose import deadline
from diagnose.checks.base import Check, Context, ContractBreach, Outcome, Skip
from diagnose.errors import InputError, ToolLimitation
from diagnose.model import CheckResult, Limitation, Status
from diagnose.redact import redact_obj, redact_text

DEFAULT_CHECK_DEADLINE_S = 45.0


class CheckGraphError(InputError):
    """The checks' declarations do not form a runnable graph (a cycle, an unknown need, an unprovided fact)."""


def validate(checks: Sequence[Check]) -> None:
    """Refuse, before anything runs, declarations the runner cannot honour."""
    every: dict[str, Check] = {}
    for check in checks:
        if check.id in every:
            raise CheckGraphError(f"two checks have the id {check.id}")
        every[check.id] = check
    for check in checks:
        unknown = [n for n in (*check.needs, *check.after) if n not in every]
        if unknown:
            raise CheckGraphError(f"{check.id} needs unknown check(s): {', '.join(unknown)}")
    sorter = TopologicalSorter({c.id: (*c.needs, *c.after) for c in checks})
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = " -> ".join(reversed(exc.args[1]))
        raise CheckGraphError(f"the checks' needs form a cycle: {cycle}") from None
    for check in checks:
        upstream = _closure([check], every, follow_after=False)
        provided = {fact for c in upstream if c is not check for fact in c.provides}
        missing = [f.name for f in check.consumes if f not in provided]
        if missing:
            raise CheckGraphError(
                f"{check.id} consumes {', '.join(missing)}, which no check it needs provides"
            )


def _closure(
    selected: Iterable[Check], every: dict[str, Check], follow_after: bool = True
) -> list[Check]:
    """The selected checks plus everything they wait for, in declaration order."""
    wanted: set[str] = set()
    stack = [c.id for c in selected]
    while stack:
        cid = stack.pop()
        if cid in wanted or cid not in every:
            continue
        wanted.add(cid)
        check = every[cid]
        stack.extend((*check.needs, *check.after) if follow_after else check.needs)
    return [c for c in every.values() if c.id in wanted]


def plan(
    checks: Sequence[Check],
    selected: Sequence[Check] | None = None,
    skipped: Collection[str] = (),
) -> list[Check]:
    """What a run of `selected` (default: all) executes: them and what they wait for, minus `skipped`."""
    every = {c.id: c for c in checks if c.id not in skipped}
    return _closure(selected if selected is not None else checks, every)


def _refusal(check: Check, outcome: Outcome) -> str | None:
    undeclared = sorted({f.code for f in outcome.findings} - set(check.causes))
    if not undeclared:
        return None
    return (
        f"the check raised undeclared cause code(s) {', '.join(undeclared)}: "
        "a check may only raise the causes it declares"
    )


def _execute(check: Check, ctx: Context, until: float | None = None) -> CheckResult:
    """Run one check under its deadline (`until`, monotonic), its result redacted."""
    started = time.monotonic()
    ctx.running(check)
    try:
        with deadline.until(until):
            outcome: Outcome = check.run(ctx)
        refusal = _refusal(check, outcome)
        if refusal:
            result = CheckResult(
                check.id, check.title, Status.ERROR, refusal, limitation=Limitation(refusal)
            )
        else:
            result = CheckResult(
                id=check.id,
                title=check.title,
                status=outcome.status,
                summary=outcome.summary,
                findings=outcome.findings,
                evidence=outcome.evidence,
            )
    except Skip as skip:
        result = CheckResult(check.id, check.title, Status.SKIP, str(skip))
    except ToolLimitation as limitation:
        reason = redact_text(limitation.reason)
        result = CheckResult(
            check.id,
            check.title,
            Status.ERROR,
            reason,
            limitation=Limitation(reason, limitation.permission),
        )
    except Exception as exc:  # noqa: BLE001 - a crashing check must not stop the run
        what = "broke its declaration" if isinstance(exc, ContractBreach) else "crashed"
        reason = f"the check {what}: {type(exc).__name__}: {redact_text(str(exc))[:300]}"
        result = CheckResult(
            check.id, check.title, Status.ERROR, reason, limitation=Limitation(reason)
        )
    finally:
        ctx.running(None)
    result.duration_ms = int((time.monotonic() - started) * 1000)
    for f in result.findings:
        f.evidence = redact_obj(f.evidence)
        f.message = redact_text(f.message)
    result.evidence = redact_obj(result.evidence)
    result.summary = redact_text(result.summary)
    return result


def _start_prewarm(checks: Iterable[Check], ctx: Context, until: float | None) -> None:
    """Start the reads the checks declared as `prewarm`, so they overlap with what runs first."""
    for check in checks:
        if ctx.profile.topology not in check.topologies:
            continue
        for read in check.prewarm:

            def warm(read: Callable[[Context], object] = read) -> None:
                # the check reports what fails, if it still runs
                with contextlib.suppress(Exception), deadline.until(until):
                    read(ctx)

            name = f"prewarm:{check.id}:{getattr(read, '__name__', 'read')}"
            threading.Thread(target=warm, name=name, daemon=True).start()


def run(
    checks: list[Check],
    ctx: Context,
    budget_s: float | None = None,
    check_deadline_s: float = DEFAULT_CHECK_DEADLINE_S,
    on_result: Callable[[CheckResult], None] | None = None,
    selected: list[Check] | None = None,
    skipped: Collection[str] = (),
) -> list[CheckResult]:
    """Run `selected` (default: all) and what they need, minus `skipped`; results in chain order."""
    validate(checks)
    every = {c.id: c for c in checks}
    planned = plan(checks, selected, skipped)
    plan_ids = {c.id for c in planned}
    # A context remembers what it already ran: those results stand (a walk runs step by step).
    done: dict[str, CheckResult] = {cid: r for cid, r in ctx.results.items() if cid in plan_ids}
    sorter: TopologicalSorter[str] = TopologicalSorter(
        {c.id: [n for n in (*c.needs, *c.after) if n in plan_ids] for c in planned}
    )
    sorter.prepare()
    running: dict[str, float] = {}  # id -> deadline (monotonic)
    finished: queue.Queue[CheckResult] = queue.Queue()
    run_deadline = time.monotonic() + budget_s if budget_s else None
    _start_prewarm((c for c in planned if c.id not in done), ctx, run_deadline)

    handed: set[str] = set()  # what the sorter handed out: only those can be marked done in it

    def finish(result: CheckResult, announce: bool = True) -> None:
        done[result.id] = result
        running.pop(result.id, None)
        ctx.results[result.id] = result
        if result.id in handed:
            sorter.done(result.id)
        if on_result and announce:
            on_result(result)

    def deadline_of(check: Check) -> float:
        return check.deadline_s or check_deadline_s

    def start_ready() -> int:
        """Start (or settle at once) what is ready; how many the sorter handed out."""
        ready = sorter.get_ready()
        for cid in ready:
            handed.add(cid)
            check = every[cid]
            if cid in done:
                finish(done[cid], announce=False)
                continue
            skipped_need = next((n for n in check.needs if n in skipped), None)
            if skipped_need is not None:
                finish(
                    CheckResult(
                        cid, check.title, Status.SKIP, f"needs {skipped_need}, which was skipped"
                    )
                )
                continue
            if ctx.profile.topology not in check.topologies:
                finish(
                    CheckResult(
                        cid,
                        check.title,
                        Status.SKIP,
                        f"does not apply to topology {ctx.profile.topology}",
                    )
                )
                continue
            running[cid] = time.monotonic() + deadline_of(check)
            until = min(running[cid], run_deadline or running[cid])
            threading.Thread(
                target=lambda c=check, u=until: finished.put(_execute(c, ctx, u)),
                name=f"check:{cid}",
                daemon=True,
            ).start()
        return len(ready)

    def error_all(cids: Iterable[str], reason: str) -> None:
        for cid in list(cids):
            finish(
                CheckResult(
                    cid, every[cid].title, Status.ERROR, reason, limitation=Limitation(reason)
                )
            )

    def advance() -> None:
        # get_ready() hands out only what is ready now; what finishes at once may make more ready.
        while sorter.is_active() and start_ready():
            pass

    advance()
    while running:
        now = time.monotonic()
        wait_until = min([*running.values(), *([run_deadline] if run_deadline else [])])
        try:
            result = finished.get(timeout=max(0.0, min(wait_until - now, 1.0)))
            if result.id in running:
                finish(result)
        except queue.Empty:
            pass
        now = time.monotonic()
        for cid, due in list(running.items()):
            if now >= due:
                reason = f"did not finish within its {deadline_of(every[cid]):g} s deadline"
                error_all([cid], reason)
        if run_deadline and now >= run_deadline:
            reason = f"the run's --timeout budget ({budget_s:g} s) was exhausted before this check finished"
            error_all(
                dict.fromkeys([*running, *(c.id for c in planned if c.id not in done)]), reason
            )
            break
        advance()
    return [done[c.id] for c in planned if c.id in done]
