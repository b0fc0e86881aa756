"""What a check is, what it declares, what it gets, and what it returns.

A check is a function `(Context) -> Outcome` plus its declaration (`Check`): the
cause codes it may raise, the checks it needs, the facts it provides and
consumes, the reads it wants started early, the rights it needs. It decides; it
never prints. It raises `Skip` when what it needs is not available, and a
`diagnose.errors.ToolLimitation` when the tool's own access or reach prevents a
decision. Shared reads go through `Context.memo` so that two checks needing the
same resource fetch it once. The runner holds checks to their declarations
(docs/design.md, "The check contract").
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from diagnose.model import CheckResult, Finding, Severity, Status
from diagnose.profile import Profile

if TYPE_CHECKING:
    from diagnose.adobe.client import AdobeClient
    from diagnose.azure.credential import SharedTokens
    from diagnose.azure.rest import RestClient

T = TypeVar("T")


class Skip(Exception):
    """The check does not apply, or what it needs is not available; the message says why."""


class ContractBreach(Exception):
    """A check did what its declaration does not allow (a bug in the check, reported as `error`)."""


@dataclass(frozen=True, eq=False)
class Fact(Generic[T]):
    """A typed key for what one check establishes for others.

    Declared once, in the module of the check that provides it; the provider lists
    it in `provides`, each consumer in `consumes` (and needs the provider).
    Identity is the object itself, so two facts never collide by name.
    """

    name: str
    doc: str = ""

    def __repr__(self) -> str:
        return f"Fact({self.name!r})"


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
    """A check and everything it declares about itself."""

    id: str
    title: str
    run: Callable[[Context], Outcome]
    causes: tuple[str, ...] = ()  # every cause code it may raise; any other is refused
    needs: tuple[str, ...] = ()  # checks that must finish first; skipping one skips this one
    after: tuple[str, ...] = ()  # checks that run first (and are run along), without being needed
    provides: tuple[Fact[Any], ...] = ()
    consumes: tuple[Fact[Any], ...] = ()  # each provided by a check this one needs
    prewarm: tuple[Callable[[Context], object], ...] = ()  # reads started when the run starts
    # The diagnosing identity's rights: `permissions` to read what the check decides from;
    # `prove_permissions` for the live proof it makes beyond reading (the unwrap round trip, the
    # execution call). Without the latter the run still decides the rest and says what it did not
    # prove (usecases/run.py, `not_proven`).
    permissions: tuple[str, ...] = ()
    prove_permissions: tuple[str, ...] = ()
    topologies: tuple[str, ...] = ("own", "adobe")
    only_with_trigger: bool = False
    uses_azure: bool = True
    deadline_s: float | None = None  # None: the runner's default

    @property
    def all_permissions(self) -> tuple[str, ...]:
        """Every right the check needs: to read, then to prove."""
        return (*self.permissions, *self.prove_permissions)


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
        self._facts: dict[Fact[Any], object] = {}
        self._memo: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()
        self._running = threading.local()  # the check this thread runs (set by the runner)

    # --- facts: what one check established for others -------------------------------
    def running(self, check: Check | None) -> None:
        """The runner says which check this thread runs, so facts are held to its declaration."""
        self._running.check = check

    def _declared(self, key: Fact[T], field_name: str) -> None:
        check: Check | None = getattr(self._running, "check", None)
        if check is not None and key not in getattr(check, field_name):
            raise ContractBreach(
                f"{check.id} uses the fact {key.name} without declaring it in {field_name}"
            )

    def set_fact(self, key: Fact[T], value: T) -> None:
        self._declared(key, "provides")
        with self._lock:
            self._facts[key] = value

    def fact(self, key: Fact[T], why: str) -> T:
        """A fact another check established; Skip (with `why`) when it was not."""
        self._declared(key, "consumes")
        with self._lock:
            value = self._facts.get(key)
        if value is None:
            raise Skip(why)
        return cast(T, value)

    # --- single-flight memoized reads ---------------------------------------------------
    def memo(self, key: str, fetch: Callable[[], T]) -> T:
        """Fetch once per run; concurrent callers wait for the first fetch (and see its exception)."""
        with self._lock:
            future = self._memo.get(key)
            owner = future is None
            if future is None:
                future = self._memo[key] = Future()
        if owner:
            try:
                future.set_result(fetch())
            except BaseException as exc:  # noqa: BLE001 - handed to every waiter
                future.set_exception(exc)
        return cast(T, future.result())

    # --- clients (built on first use; SDKs imported only then) -----------------------------
    @property
    def credential(self) -> SharedTokens:
        from diagnose.azure import credential

        return self.memo(
            "client:credential",
            lambda: credential.SharedTokens(credential.build(self.profile), self.profile.tenant_id),
        )

    @property
    def arm(self) -> RestClient:
        from diagnose.azure import rest

        return self.memo("client:arm", lambda: rest.arm(self.profile, self.credential))

    @property
    def graph(self) -> RestClient:
        from diagnose.azure import rest

        return self.memo("client:graph", lambda: rest.graph(self.profile, self.credential))

    @property
    def adobe(self) -> AdobeClient:
        from diagnose.adobe.client import AdobeClient

        return self.memo("client:adobe", lambda: AdobeClient(self.profile))

    def require(self, key: str, what: str) -> str:
        """A profile value the check cannot do without; Skip naming the key when absent."""
        value = self.profile.get(key)
        if not value:
            raise Skip(f"no {what} configured ({key})")
        return str(value)


def finding(
    code: str, message: str, severity: Severity = Severity.FAIL, /, **evidence: object
) -> Finding:
    return Finding(code=code, message=message, severity=severity, evidence=evidence)
