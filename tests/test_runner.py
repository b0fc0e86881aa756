"""The runner: a dependency graph run concurrently, deadlines, budgets, crashes and skips.

These drive the real runner with small checks of their own (the runner does not
care what a check does); the checks against the lab are in tests/run/.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from diagnose.checks.base import Check, Context, Fact, Outcome, RunOptions, Skip, finding
from diagnose.errors import NotPermitted
from diagnose.model import Status
from diagnose.profile import Profile
from diagnose.runner import CheckGraphError, run, validate

A: Fact[bool] = Fact("a")
B: Fact[bool] = Fact("b")
X: Fact[int] = Fact("x")


def ctx() -> Context:
    return Context(Profile("t", values={"topology": "own"}), RunOptions())


def recording(log: list[str], name: str) -> Callable[[Context], Outcome]:
    """A check body that notes in `log` that it ran."""

    def body(c: Context) -> Outcome:
        log.append(name)
        return Outcome(name)

    return body


def test_independent_checks_overlap_and_dependents_wait() -> None:
    barrier = threading.Barrier(2, timeout=5)

    def slow(fact: Fact[bool]):
        def body(c: Context) -> Outcome:
            barrier.wait()  # both must be running at once, or this times out
            c.set_fact(fact, True)
            return Outcome("ok")

        return body

    def dependent(c: Context) -> Outcome:
        assert c.fact(A, "a missing") and c.fact(B, "b missing")
        return Outcome("saw both")

    checks = [
        Check("a", "A", slow(A), provides=(A,), uses_azure=False),
        Check("b", "B", slow(B), provides=(B,), uses_azure=False),
        Check("c", "C", dependent, needs=("a", "b"), consumes=(A, B), uses_azure=False),
    ]
    results = {r.id: r for r in run(checks, ctx())}
    assert [results[i].status for i in "abc"] == [Status.PASS] * 3
    assert results["c"].summary == "saw both"


def test_crash_becomes_error_others_continue_and_dependents_skip_with_reason() -> None:
    def crash(c: Context) -> Outcome:
        raise KeyError("boom")

    def needs_fact(c: Context) -> Outcome:
        c.fact(X, "x was not established by the crashing check")
        return Outcome("unreachable")

    checks = [
        Check("crash", "crash", crash, provides=(X,), uses_azure=False),
        Check(
            "fine",
            "fine",
            lambda c: Outcome("fine", [finding("principal.disabled", "m")]),
            causes=("principal.disabled",),
            uses_azure=False,
        ),
        Check("dep", "dep", needs_fact, needs=("crash",), consumes=(X,), uses_azure=False),
    ]
    results = {r.id: r for r in run(checks, ctx())}
    assert results["crash"].status is Status.ERROR and "KeyError" in results["crash"].summary
    assert results["fine"].status is Status.FAIL
    assert results["dep"].status is Status.SKIP
    assert results["dep"].summary == "x was not established by the crashing check"


def test_missing_permission_is_an_error_naming_it() -> None:
    def refused(c: Context) -> Outcome:
        raise NotPermitted("ARM refused", "Reader on the vault")

    (result,) = run([Check("p", "p", refused, uses_azure=False)], ctx())
    assert result.status is Status.ERROR
    assert result.limitation is not None and result.limitation.permission == "Reader on the vault"
    assert result.findings == []


def test_check_deadline_and_run_budget() -> None:
    release = threading.Event()

    def hang(c: Context) -> Outcome:
        release.wait(10)
        return Outcome("late")

    started = time.monotonic()
    results = {
        r.id: r
        for r in run(
            [
                Check("hang", "h", hang, uses_azure=False),
                Check("quick", "q", lambda c: Outcome("q"), uses_azure=False),
                Check("next", "n", lambda c: Outcome("n"), needs=("hang",), uses_azure=False),
            ],
            ctx(),
            check_deadline_s=0.3,
        )
    }
    assert results["hang"].status is Status.ERROR and "deadline" in results["hang"].summary
    assert results["quick"].status is Status.PASS
    assert results["next"].status is Status.PASS  # a need that overran still lets it start
    results = run(
        [
            Check("hang", "h", hang, uses_azure=False),
            Check("waits", "w", lambda c: Outcome("w"), needs=("hang",), uses_azure=False),
        ],
        ctx(),
        budget_s=0.3,
    )
    assert [r.id for r in results] == ["hang", "waits"]
    assert all(r.status is Status.ERROR and "--timeout budget" in r.summary for r in results)
    assert time.monotonic() - started < 5
    release.set()


def test_selection_pulls_in_what_a_check_needs() -> None:
    checks = [
        Check(
            "a",
            "A",
            lambda c: (c.set_fact(X, 1), Outcome("a"))[1],
            provides=(X,),
            uses_azure=False,
        ),
        Check(
            "b",
            "B",
            lambda c: Outcome(f"b saw {c.fact(X, 'no a')}"),
            needs=("a",),
            consumes=(X,),
            uses_azure=False,
        ),
        Check("z", "Z", lambda c: Outcome("z"), uses_azure=False),
    ]
    results = run(checks, ctx(), selected=[checks[1]])
    assert [r.id for r in results] == ["a", "b"]
    assert results[1].summary == "b saw 1"


def test_skip_and_topology() -> None:
    def skipper(c: Context) -> Outcome:
        raise Skip("not configured")

    checks = [
        Check("s", "s", skipper, uses_azure=False),
        Check("adobe-only", "a", lambda c: Outcome("x"), topologies=("adobe",), uses_azure=False),
    ]
    results = {r.id: r for r in run(checks, ctx())}
    assert results["s"].status is Status.SKIP and results["s"].summary == "not configured"
    assert (
        results["adobe-only"].status is Status.SKIP
        and "topology own" in results["adobe-only"].summary
    )


def test_results_come_back_in_chain_order_whatever_finishes_first() -> None:
    def late(c: Context) -> Outcome:
        time.sleep(0.2)
        return Outcome("late")

    checks = [
        Check("first", "1", late, uses_azure=False),
        Check("second", "2", lambda c: Outcome("quick"), uses_azure=False),
    ]
    seen: list[str] = []
    results = run(checks, ctx(), on_result=lambda r: seen.append(r.id))
    assert seen == ["second", "first"]
    assert [r.id for r in results] == ["first", "second"]


def test_a_context_remembers_what_it_ran() -> None:
    calls: list[str] = []
    checks = [
        Check("a", "A", recording(calls, "a"), uses_azure=False),
        Check("b", "B", recording(calls, "b"), needs=("a",), uses_azure=False),
    ]
    context = ctx()
    run(checks, context, selected=[checks[0]])
    results = run(checks, context, selected=[checks[1]])
    assert calls == ["a", "b"]
    assert [r.id for r in results] == ["a", "b"]


# --- the declarations hold -----------------------------------------------------------


def test_a_cycle_in_needs_is_an_error_at_start_up() -> None:
    ran: list[str] = []
    body = recording(ran, "x")
    checks = [
        Check("a", "A", body, needs=("c",), uses_azure=False),
        Check("b", "B", body, needs=("a",), uses_azure=False),
        Check("c", "C", body, needs=("b",), uses_azure=False),
        Check("free", "F", body, uses_azure=False),
    ]
    started = time.monotonic()
    with pytest.raises(CheckGraphError, match="cycle") as raised:
        run(checks, ctx(), budget_s=30)
    assert time.monotonic() - started < 1
    assert ran == []  # refused before anything ran
    assert {"a", "b", "c"} <= set(str(raised.value).replace(" -> ", " ").split())
    assert raised.value.exit_code == 2


def test_a_need_on_an_unknown_check_is_an_error_at_start_up() -> None:
    checks = [Check("a", "A", lambda c: Outcome("a"), needs=("nope",), uses_azure=False)]
    with pytest.raises(CheckGraphError, match="a needs unknown check.*nope"):
        run(checks, ctx())


def test_a_consumed_fact_must_come_from_a_needed_check() -> None:
    provider = Check("p", "P", lambda c: Outcome("p"), provides=(X,), uses_azure=False)
    consumer = Check("c", "C", lambda c: Outcome("c"), consumes=(X,), uses_azure=False)
    with pytest.raises(CheckGraphError, match="c consumes x, which no check it needs provides"):
        validate([provider, consumer])
    validate([provider, Check("c", "C", lambda c: Outcome("c"), needs=("p",), consumes=(X,))])


def test_an_undeclared_cause_is_refused() -> None:
    def sloppy(c: Context) -> Outcome:
        return Outcome("bad", [finding("key.disabled", "declared"), finding("made.up", "not")])

    (result,) = run([Check("s", "S", sloppy, causes=("key.disabled",), uses_azure=False)], ctx())
    assert result.status is Status.ERROR
    assert "made.up" in result.summary and "undeclared" in result.summary
    assert result.findings == []
    assert result.limitation is not None


def test_a_fact_used_without_declaring_it_is_an_error() -> None:
    def undeclared(c: Context) -> Outcome:
        c.set_fact(X, 3)
        return Outcome("set it")

    (result,) = run([Check("u", "U", undeclared, uses_azure=False)], ctx())
    assert result.status is Status.ERROR
    assert "u uses the fact x without declaring it in provides" in result.summary


def test_what_needs_a_skipped_check_is_skipped_saying_so() -> None:
    ran: list[str] = []
    checks = [
        Check("base", "B", recording(ran, "base"), uses_azure=False),
        Check("dep", "D", recording(ran, "dep"), needs=("base",), uses_azure=False),
        Check("free", "F", recording(ran, "free"), uses_azure=False),
        Check("last", "L", recording(ran, "last"), after=("base", "dep", "free"), uses_azure=False),
    ]
    results = {r.id: r for r in run(checks, ctx(), skipped={"base"})}
    assert "base" not in results
    assert results["dep"].status is Status.SKIP
    assert results["dep"].summary == "needs base, which was skipped"
    # `after` orders without needing: the last check runs after the others, skipped or not
    assert results["last"].status is Status.PASS
    assert sorted(ran) == ["free", "last"] and ran[-1] == "last"


def test_declared_early_reads_start_with_the_run() -> None:
    started = threading.Event()

    def early(c: Context) -> None:
        started.set()

    def waits(c: Context) -> Outcome:
        return Outcome("saw the early read" if started.wait(2) else "no early read")

    def blocker(c: Context) -> Outcome:
        return Outcome("first")

    checks = [
        Check("first", "F", blocker, uses_azure=False),
        Check("w", "W", waits, needs=("first",), prewarm=(early,), uses_azure=False),
    ]
    results = {r.id: r for r in run(checks, ctx())}
    assert results["w"].summary == "saw the early read"
