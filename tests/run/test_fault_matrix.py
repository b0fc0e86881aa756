"""The fault matrix: every fault kind against every service, in the healthy and sp-disabled worlds.

Each case is `diagnose run --lab WORLD --timeout 5 --output json` with
DIAGNOSE_LAB_FAULTS=SPEC (the lab in process, docs/lab.md "Faults"), plus COUNT=2
variants of the retryable kinds (a transient fault the retries should absorb) and a
dead or refusing HTTPS_PROXY. Compared with the fault-free run of the same world,
a case is right when:

1. no fail/warn cause appears that the fault-free run does not have, and no check
   that fails without the fault passes with it (a fault never proves health);
2. in sp-disabled, `principal.disabled` stays the root cause whenever the fault is on
   another service than graph, or is transient (COUNT ≤ 2 of a retryable kind); entra
   counts with graph (Graph's token comes from it), as do the proxies (before both);
3. the process exits within --timeout + 2 s;
4. exit 1 only with findings of the fault-free run and its root cause kept; exit 3
   whenever a check the fault-free run decided is left undecided; never 0 then;
5. no traceback on stderr.

The cases that are wrong today are listed in KNOWN_WRONG (each with the wrong verdict
observed) and marked xfail(strict=True): the list can only shrink. To see the whole
matrix and a fresh KNOWN_WRONG: `.venv/bin/python -m tests.run.test_fault_matrix`.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

import pytest

from diagnose.lab.faults import KINDS, RETRYABLE, SERVICES
from tests.harness import CliResult, start_cli

WORLDS = ("healthy", "sp-disabled")
ROOT_CAUSE = {"healthy": None, "sp-disabled": "principal.disabled"}
TIMEOUT_S = 5
GRACE_S = 2  # the process must be gone within --timeout + this, once the run has started
STARTUP_S = 4  # allowance for the interpreter's and the lab's start on a loaded machine
KILL_AFTER_S = TIMEOUT_S + GRACE_S + STARTUP_S
# Cases run at once (a lab per process). Most of a case's time is spent waiting for its budget
# (stalls, retries), not computing: 4 at a time keeps the matrix within budget on 2 cores.
WORKERS = 4
PROXIES = ("proxy-dead", "proxy-closes")  # HTTPS_PROXY at a closed port / at accept-and-close
# What `principal.enabled` needs to prove the disabled principal: Graph, and Entra ID for Graph's
# token (a proxy stands before both). A lasting fault on these may leave sp-disabled undecided.
PROVES = ("graph", "entra", None)
LAB_ENV = {"DIAGNOSE_LAB_PROPAGATION_S": "0.05", "NO_PROXY": "", "no_proxy": ""}


@dataclass(frozen=True)
class Case:
    world: str
    fault: str  # a DIAGNOSE_LAB_FAULTS spec, or one of PROXIES

    @property
    def id(self) -> str:
        return f"{self.world}/{self.fault}"

    @property
    def service(self) -> str | None:
        return None if self.fault in PROXIES else self.fault.split(":")[0]

    @property
    def transient(self) -> bool:
        parts = self.fault.split(":")
        return len(parts) == 3 and parts[1] in RETRYABLE and int(parts[2]) <= 2


# `run` asks every service but Log Analytics (the timeline's: tests/timeline/test_faults.py).
RUN_SERVICES = tuple(s for s in SERVICES if s != "loganalytics")


def all_cases() -> list[Case]:
    cases = []
    for world in WORLDS:
        cases += [Case(world, f"{service}:{kind}") for kind in KINDS for service in RUN_SERVICES]
        cases += [
            Case(world, f"{service}:{kind}:2") for kind in RETRYABLE for service in RUN_SERVICES
        ]
        cases += [Case(world, proxy) for proxy in PROXIES]
    return cases


CASES = all_cases()
# The whole matrix runs in the first test that asks for it (about 300 cases, WORKERS at a time).
pytestmark = pytest.mark.timeout(1500)


@dataclass
class Outcome:
    """What one run left: exit, findings (cause codes), check statuses, root cause, times, stderr."""

    exit_code: int | None  # None: killed at KILL_AFTER_S
    lifetime_s: float  # the run's own duration, plus how long the process lived after its report
    stderr: str
    findings: set[str] = field(default_factory=set)
    statuses: dict[str, str] = field(default_factory=dict)
    root_cause: str | None = None
    report: bool = False


def run_case(world: str, env: dict[str, str]) -> Outcome:
    """`diagnose run --lab WORLD --timeout 5` with `env`; how long it lived once the run started.

    Interpreter start-up and the lab's start are not part of the run's budget and grow with the
    machine's load, so the lifetime is measured as the report's `duration_ms` plus the time from
    the report's first byte on stdout to the process's end.
    """
    proc = start_cli(
        "run",
        "--lab",
        world,
        "--timeout",
        str(TIMEOUT_S),
        "--output",
        "json",
        env={**LAB_ENV, **env},
    )
    streams: dict[str, str] = {}
    printed: list[float] = []

    def drain(name: str, stream: IO[str]) -> None:
        first = stream.read(1)
        if first and name == "stdout":
            printed.append(time.monotonic())
        streams[name] = first + stream.read()

    readers = [
        threading.Thread(target=drain, args=(name, stream), daemon=True)
        for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr))
    ]
    for reader in readers:
        reader.start()
    try:
        code: int | None = proc.wait(KILL_AFTER_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = None
    ended = time.monotonic()
    for reader in readers:
        reader.join(5)
    outcome = Outcome(code, 0.0, streams.get("stderr", ""))
    stdout = streams.get("stdout", "")
    if code is None or not stdout.lstrip().startswith("{"):
        return outcome
    result = CliResult(("run", "--lab", world), code, stdout, outcome.stderr)
    report: dict[str, Any] = result.json()
    outcome.report = True
    outcome.lifetime_s = report["duration_ms"] / 1000 + (ended - printed[0])
    for check in report["checks"]:
        outcome.statuses[check["id"]] = check["status"]
        for finding in check["findings"]:
            if finding["severity"] in ("fail", "warn"):
                outcome.findings.add(finding["code"])
    if report["diagnosis"]:
        outcome.root_cause = report["diagnosis"][0]["code"]
    return outcome


def wrong_verdicts(case: Case, got: Outcome, clean: Outcome) -> list[str]:
    """What is wrong with `got` against the fault-free run `clean` (empty: the case is right)."""
    wrong = []
    if got.exit_code is None:
        wrong.append(f"still running {KILL_AFTER_S:g} s after its start (killed)")
    elif got.lifetime_s > TIMEOUT_S + GRACE_S:
        wrong.append(f"ended {got.lifetime_s:.1f} s after the run started")
    if "Traceback" in got.stderr:
        wrong.append("traceback on stderr")
    if got.exit_code is None:
        return wrong
    if not got.report:
        return [*wrong, f"exit {got.exit_code} without a report"]
    if extra := sorted(got.findings - clean.findings):
        wrong.append("new findings " + ",".join(extra))
    if passed := sorted(
        c for c, s in clean.statuses.items() if s == "fail" and got.statuses.get(c) == "pass"
    ):
        wrong.append("failing checks passed: " + ",".join(passed))
    must_keep = case.world == "sp-disabled" and (case.service not in PROVES or case.transient)
    if must_keep and got.root_cause != ROOT_CAUSE[case.world]:
        wrong.append(f"root cause {got.root_cause} instead of {ROOT_CAUSE[case.world]}")
    undecided = sorted(
        c
        for c, s in clean.statuses.items()
        if s in ("pass", "fail") and got.statuses.get(c) in ("error", "skip")
    )
    if got.exit_code == 1 and (got.root_cause != clean.root_cause or not got.findings):
        wrong.append(f"exit 1 with root cause {got.root_cause} (fault-free: {clean.root_cause})")
    elif got.exit_code == 0 and (undecided or got.findings != clean.findings):
        wrong.append(
            "exit 0 though "
            + (",".join(undecided) + " undecided" if undecided else "findings were lost")
        )
    elif got.exit_code not in (0, 1, 3):
        wrong.append(f"exit {got.exit_code}")
    elif got.exit_code == 3 and clean.exit_code == 1 and not undecided:
        wrong.append("exit 3 though every check the fault-free run decided was decided")
    return wrong


# -- proxies --------------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def accept_and_close() -> Iterator[int]:
    """A loopback listener that accepts every connection and closes it at once."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                conn.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def case_env(case: Case, proxy_ports: dict[str, int]) -> dict[str, str]:
    if case.fault in PROXIES:
        url = f"http://127.0.0.1:{proxy_ports[case.fault]}"
        return {"HTTPS_PROXY": url, "https_proxy": url}
    return {"DIAGNOSE_LAB_FAULTS": case.fault}


Matrix = tuple[dict[str, Outcome], dict[str, Outcome]]  # (fault-free run per world, run per case)


def run_matrix(cases: list[Case]) -> Matrix:
    """The fault-free run of each world, then every case, WORKERS at a time."""
    with accept_and_close() as closing_port, ThreadPoolExecutor(max_workers=WORKERS) as pool:
        ports = {"proxy-dead": _closed_port(), "proxy-closes": closing_port}
        clean = dict(zip(WORLDS, pool.map(lambda w: run_case(w, {}), WORLDS), strict=True))
        got = dict(
            zip(
                (c.id for c in cases),
                pool.map(lambda c: run_case(c.world, case_env(c, ports)), cases),
                strict=True,
            )
        )
        # A case judged wrong runs once more, alone: on a loaded machine a process can be slow
        # to start and lose its budget to the load. A verdict that is really wrong is wrong twice.
        for c in cases:
            if wrong_verdicts(c, got[c.id], clean[c.world]):
                got[c.id] = run_case(c.world, case_env(c, ports))
        return clean, got


# -- what is wrong today (none: the clients and checks obey the evidence rule) ---------------------------

KNOWN_WRONG: dict[str, str] = {}


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return run_matrix(CASES)


def test_the_fault_free_runs_are_the_worlds_verdicts(matrix: Matrix) -> None:
    clean, _ = matrix
    assert clean["healthy"].exit_code == 0 and not clean["healthy"].findings
    assert clean["sp-disabled"].exit_code == 1
    assert clean["sp-disabled"].root_cause == "principal.disabled"


def test_known_wrong_names_only_cases_of_the_matrix() -> None:
    assert set(KNOWN_WRONG) <= {c.id for c in CASES}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_WRONG[c.id])])
        if c.id in KNOWN_WRONG
        else pytest.param(c, id=c.id)
        for c in CASES
    ],
)
def test_a_fault_never_becomes_a_verdict(case: Case, matrix: Matrix) -> None:
    clean, got = matrix
    outcome = got[case.id]
    assert wrong_verdicts(case, outcome, clean[case.world]) == [], outcome.stderr[-1500:]


def main() -> None:
    """Run the matrix, print the counts and a KNOWN_WRONG literal for the cases wrong today."""
    started = time.monotonic()
    clean, got = run_matrix(CASES)
    wrong = {
        c.id: "; ".join(w) for c in CASES if (w := wrong_verdicts(c, got[c.id], clean[c.world]))
    }
    print(
        f"{len(CASES)} cases in {time.monotonic() - started:.0f} s: {len(CASES) - len(wrong)} right, {len(wrong)} wrong"
    )
    by_kind = Counter(
        c.fault.split(":")[1] if c.service else c.fault for c in CASES if c.id in wrong
    )
    by_service = Counter(c.service or "proxy" for c in CASES if c.id in wrong)
    print("wrong by kind:", dict(sorted(by_kind.items())))
    print("wrong by service:", dict(sorted(by_service.items())))
    slowest = sorted(got.items(), key=lambda item: -item[1].lifetime_s)[:5]
    print("longest lived:", ", ".join(f"{k} {o.lifetime_s:.1f} s" for k, o in slowest))
    print("killed:", sum(o.exit_code is None for o in got.values()))
    print("KNOWN_WRONG: dict[str, str] = {")
    for case_id, verdict in wrong.items():
        print(f"    {case_id!r}: {verdict!r},")
    print("}")


if __name__ == "__main__":
    main()
