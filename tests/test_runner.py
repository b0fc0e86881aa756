"""The runner: a dependency graph run concurrently, deadlines, budgets, crashes and skips.

These drive the real runner with small checks of their own (the runner does not
care what a check does); the checks against the lab are in tests/run/.
"""

from __future__ import annotations

import threading
import time

from diagnose.checks.base import Check, Context, Outcome, RunOptions, Skip, finding
from diagnose.errors import NotPermitted
from diagnose.model import Status
from diagnose.profile import Profile
from diagnose.runner import run


def ctx() -> Context:
    return Context(Profile("t", values={"topology": "own"}), RunOptions())


def test_independent_checks_overlap_and_dependents_wait() -> None:
    started: dict[str, float] = {}
    barrier = threading.Barrier(2, timeout=5)

    def slow(name: str):
        def body(c: Context) -> Outcome:
            started[name] = time.monotonic()
            barrier.wait()  # both must be running at once, or this times out
            c.set_fact(name, True)
            return Outcome("ok")

        return body

    def dependent(c: Context) -> Outcome:
        assert c.fact("a", "a missing") and c.fact("b", "b missing")
        return Outcome("saw both")

    checks = [
        Check("a", "A", slow("a"), uses_azure=False),
        Check("b", "B", slow("b"), uses_azure=False),
        Check("c", "C", dependent, needs=("a", "b"), uses_azure=False),
    ]
    results = {r.id: r for r in run(checks, ctx())}
    assert [results[i].status for i in "abc"] == [Status.PASS] * 3
    assert results["c"].summary == "saw both"


def test_crash_becomes_error_others_continue_and_dependents_skip_with_reason() -> None:
    def crash(c: Context) -> Outcome:
        raise KeyError("boom")

    def needs_fact(c: Context) -> Outcome:
        c.fact("x", "x was not established by the crashing check")
        return Outcome("unreachable")

    checks = [
        Check("crash", "crash", crash, uses_azure=False),
        Check(
            "fine",
            "fine",
            lambda c: Outcome("fine", [finding("principal.disabled", "m")]),
            uses_azure=False,
        ),
        Check("dep", "dep", needs_fact, needs=("crash",), uses_azure=False),
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
            ],
            ctx(),
            check_deadline_s=0.3,
        )
    }
    assert results["hang"].status is Status.ERROR and "deadline" in results["hang"].summary
    assert results["quick"].status is Status.PASS
    results = run([Check("hang", "h", hang, uses_azure=False)], ctx(), budget_s=0.3)
    assert results[0].status is Status.ERROR and "--timeout budget" in results[0].summary
    assert time.monotonic() - started < 5
    release.set()


def test_selection_pulls_in_what_a_check_needs() -> None:
    checks = [
        Check("a", "A", lambda c: (c.set_fact("a", 1), Outcome("a"))[1], uses_azure=False),
        Check(
            "b",
            "B",
            lambda c: Outcome(f"b saw {c.fact('a', 'no a')}"),
            needs=("a",),
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
