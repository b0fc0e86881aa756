"""What a check is, what it gets, and what it returns.

A check is a function `(Context) -> Outcome`. It decides; it never prints.
It raises `Skip` when what it needs is not available, and a
`diagnose.errors.ToolLimitation` when the tool's own access or reach
prevents a decision. Shared reads go through `Context.memo` so that two checks
needing the same resource fetch it once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from diagnose.model import CheckResult, Finding, Severity, Status
from diagnose.profile import Profile


class Skip(Exception):
    """The check does not apply, or what it needs is not available; the message says why."""


@dataclass
class Outcome:
    summary: str
    findings: list[Finding] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        if any(f.severity is Severity.FAIL for f in self.findings):
            return Status.FAIL
        if any(f.severity is Severity.WARN for f in self.findings):
            return Status.WARN
        return Status.PASS


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    run: Callable[[Context], Outcome]
    needs: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()  # what the diagnosing identity needs for this check
    topologies: tuple[str, ...] = ("own", "adobe")
    only_with_trigger: bool = False
    uses_azure: bool = True
    deadline_s: float | None = None  # None: the runner's default


@dataclass
class RunOptions:
    trigger: bool = False
    trigger_deadline_s: float = 60.0
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


class Context:
    """Everything a check may use: the profile, the options, lazily built clients, shared facts."""

    def __init__(self, profile: Profile, options: RunOptions):
        self.profile = profile
        self.options = options
        self.results: dict[str, CheckResult] = {}
        self._facts: dict[str, Any] = {}
        self._memo: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()

    # --- facts: what one check established for others -------------------------------
    def set_fact(self, name: str, value: Any) -> None:
        with self._lock:
            self._facts[name] = value

    def fact(self, name: str, why: str) -> Any:
        """A fact another check established; Skip (with `why`) when it was not."""
        with self._lock:
            if name in self._facts and self._facts[name] is not None:
                return self._facts[name]
        raise Skip(why)

    # --- single-flight memoized reads ---------------------------------------------------
    def memo(self, key: str, fetch: Callable[[], Any]) -> Any:
        """Fetch once per run; concurrent callers wait for the first fetch (and see its exception)."""
        with self._lock:
            future = self._memo.get(key)
            owner = future is None
            if owner:
                future = self._memo[key] = Future()
        assert future is not None
        if owner:
            try:
                future.set_result(fetch())
            except BaseException as exc:  # noqa: BLE001 - handed to every waiter
                future.set_exception(exc)
        return future.result()

    # --- clients (built on first use; SDKs imported only then) -----------------------------
    @property
    def credential(self) -> Any:
        from diagnose.azure import credential

        return self.memo(
            "client:credential",
            lambda: credential.SharedTokens(credential.build(self.profile), self.profile.tenant_id),
        )

    @property
    def arm(self) -> Any:
        from diagnose.azure import rest

        return self.memo("client:arm", lambda: rest.arm(self.profile, self.credential))

    @property
    def graph(self) -> Any:
        from diagnose.azure import rest

        return self.memo("client:graph", lambda: rest.graph(self.profile, self.credential))

    @property
    def adobe(self) -> Any:
        from diagnose.adobe.client import AdobeClient

        return self.memo("client:adobe", lambda: AdobeClient(self.profile))

    def require(self, key: str, what: str) -> str:
        """A profile value the check cannot do without; Skip naming the key when absent."""
        value = self.profile.get(key)
        if not value:
            raise Skip(f"no {what} configured ({key})")
        return value


def finding(
    code: str, message: str, severity: Severity = Severity.FAIL, /, **evidence: Any
) -> Finding:
    return Finding(code=code, message=message, severity=severity, evidence=evidence)
