"""Run checks as a dependency graph: concurrently, each under a deadline, the whole run under a budget.

A check starts as soon as the checks it needs have finished (whatever their
status: a check decides for itself whether what it needs is available). A check
that raises becomes `error` without stopping the others; one that overruns its
deadline is reported as `error` and left behind (its late result is ignored).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable

from diagnose.checks.base import Check, Context, Outcome, Skip
from diagnose.errors import ToolLimitation
from diagnose.model import CheckResult, Limitation, Status
from diagnose.redact import redact_obj, redact_text

DEFAULT_CHECK_DEADLINE_S = 45.0


def _execute(check: Check, ctx: Context) -> CheckResult:
    started = time.monotonic()
    try:
        outcome: Outcome = check.run(ctx)
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
    except Exception as exc:  # noqa: BLE001 - a crashing check must not stop the run
        limitation = exc if isinstance(exc, ToolLimitation) else None
        if limitation is not None:
            result = CheckResult(
                check.id,
                check.title,
                Status.ERROR,
                redact_text(limitation.reason),
                limitation=Limitation(redact_text(limitation.reason), limitation.permission),
            )
        else:
            reason = f"the check crashed: {type(exc).__name__}: {redact_text(str(exc))[:300]}"
            result = CheckResult(
                check.id, check.title, Status.ERROR, reason, limitation=Limitation(reason)
            )
    result.duration_ms = int((time.monotonic() - started) * 1000)
    for f in result.findings:
        f.evidence = redact_obj(f.evidence)
        f.message = redact_text(f.message)
    result.evidence = redact_obj(result.evidence)
    result.summary = redact_text(result.summary)
    return result


def _closure(selected: Iterable[Check], every: dict[str, Check]) -> list[Check]:
    """The selected checks plus everything they need, in chain order."""
    wanted: set[str] = set()
    stack = [c.id for c in selected]
    while stack:
        cid = stack.pop()
        if cid in wanted:
            continue
        wanted.add(cid)
        stack.extend(n for n in every[cid].needs if n in every)
    return [c for c in every.values() if c.id in wanted]


def run(
    checks: list[Check],
    ctx: Context,
    budget_s: float | None = None,
    check_deadline_s: float = DEFAULT_CHECK_DEADLINE_S,
    on_result: Callable[[CheckResult], None] | None = None,
    selected: list[Check] | None = None,
) -> list[CheckResult]:
    """Run `selected` (default: all) and what they need; results come back in chain order."""
    every = {c.id: c for c in checks}
    plan = _closure(selected if selected is not None else checks, every)
    plan_ids = {c.id for c in plan}
    # A context remembers what it already ran: those results stand (a walk runs step by step).
    done: dict[str, CheckResult] = {cid: r for cid, r in ctx.results.items() if cid in plan_ids}
    pending = {c.id: c for c in plan if c.id not in done}
    running: dict[str, float] = {}  # id -> deadline (monotonic)
    finished: queue.Queue[CheckResult] = queue.Queue()
    run_deadline = time.monotonic() + budget_s if budget_s else None

    def finish(result: CheckResult) -> None:
        done[result.id] = result
        running.pop(result.id, None)
        ctx.results[result.id] = result
        if on_result:
            on_result(result)

    def start_ready() -> None:
        for cid, check in list(pending.items()):
            if all(n in done for n in check.needs if n in plan_ids):
                del pending[cid]
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
                running[cid] = time.monotonic() + (check.deadline_s or check_deadline_s)
                threading.Thread(
                    target=lambda c=check: finished.put(_execute(c, ctx)),
                    name=f"check:{cid}",
                    daemon=True,
                ).start()

    start_ready()
    while pending or running:
        now = time.monotonic()
        wait_until = min(
            [*running.values(), *([run_deadline] if run_deadline else [])], default=now
        )
        try:
            result = finished.get(timeout=max(0.0, min(wait_until - now, 1.0)))
            if result.id in running:
                finish(result)
        except queue.Empty:
            pass
        now = time.monotonic()
        for cid, deadline in list(running.items()):
            if now >= deadline:
                reason = f"did not finish within its {every[cid].deadline_s or check_deadline_s:g} s deadline"
                finish(
                    CheckResult(
                        cid, every[cid].title, Status.ERROR, reason, limitation=Limitation(reason)
                    )
                )
        if run_deadline and now >= run_deadline:
            reason = f"the run's --timeout budget ({budget_s:g} s) was exhausted before this check finished"
            for cid in [*running, *pending]:
                finish(
                    CheckResult(
                        cid, every[cid].title, Status.ERROR, reason, limitation=Limitation(reason)
                    )
                )
            pending.clear()
            break
        start_ready()
    return [done[c.id] for c in plan if c.id in done]
