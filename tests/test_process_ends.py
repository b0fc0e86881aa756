"""The process ends: `--timeout` bounds the process, not only the report.

A service that answers one byte every few seconds never trips a read timeout; the
run's budget still ends the run, and no worker left reading (a thread pool's, an
SDK's) keeps the process alive after the report.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.harness import start_cli

TRICKLE_EVERY_S = 2.0


class TrickleRelay:
    """A TCP relay to one lab endpoint that hands the answer back one byte every 2 s.

    TLS passes through untouched (the lab's certificate is for the address, which the
    relay shares), so the client sees a live, valid connection that never finishes.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 443)
        self.server = socket.create_server((self.target[0], 0))
        self.url = f"https://{self.target[0]}:{self.server.getsockname()[1]}"
        self.stopping = threading.Event()
        self.sockets: list[socket.socket] = []

    def __enter__(self) -> TrickleRelay:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for sock in [self.server, *self.sockets]:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, 0.0), daemon=True).start()
            threading.Thread(
                target=self._pipe, args=(upstream, client, TRICKLE_EVERY_S), daemon=True
            ).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, every_s: float) -> None:
        with contextlib.suppress(OSError):
            while not self.stopping.is_set():
                data = source.recv(65536)
                if not data:
                    return
                if not every_s:
                    sink.sendall(data)
                    continue
                for i in range(len(data)):
                    if self.stopping.wait(every_s):
                        return
                    sink.sendall(data[i : i + 1])


@pytest.fixture
def trickling_platform(lab) -> Iterator[dict[str, str]]:
    running = lab("healthy")
    with TrickleRelay(running.urls["platform"]) as relay:
        yield {**running.env, "DIAGNOSE_PLATFORM_URL": relay.url}


@pytest.mark.parametrize("output", ["text", "json"])
def test_run_timeout_ends_the_process_against_a_trickling_service(
    trickling_platform: dict[str, str], output: str
) -> None:
    started = time.monotonic()
    proc = start_cli("run", "--timeout", "3", "--output", output, env=trickling_platform)
    try:
        stdout, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("diagnose run --timeout 3 was still alive 30 s later")
    elapsed = time.monotonic() - started
    assert proc.returncode == 3, stderr[-2000:]
    assert elapsed < 3 + 2 + 1.5, f"the process took {elapsed:.1f} s"  # start-up included
    assert "Traceback" not in stderr
    assert "--timeout budget (3 s) was exhausted" in stdout


@pytest.mark.parametrize("fault", ["arm:trickle", "arm:trickle@roleDefinitions", "vault:trickle"])
def test_run_timeout_ends_the_process_against_the_labs_trickle(fault: str) -> None:
    """The lab's own fault layer: every ARM answer, only the role definitions the roles check
    reads in parallel (once a thread pool whose workers the interpreter joined at exit), Key Vault."""
    from diagnose.lab import Lab

    with Lab("healthy", faults=[fault]) as running:
        started = time.monotonic()
        proc = start_cli("run", "--timeout", "3", env=running.env)
        try:
            stdout, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"diagnose run --timeout 3 against {fault} was still alive 30 s later")
        elapsed = time.monotonic() - started
    assert proc.returncode == 3, stdout[-2000:] + stderr[-2000:]
    assert elapsed < 3 + 2 + 1.5, f"the process took {elapsed:.1f} s"  # start-up included
    assert "Traceback" not in stderr


def test_skip_skips_what_needs_it_even_with_the_trigger(lab) -> None:
    """`--skip X`: X is not run, a check that needs X is skipped saying so, the others run."""
    from tests.harness import run_cli

    running = lab("healthy")
    result = run_cli(
        "run",
        "--skip",
        "keyvault.key,campaign.window",
        "--trigger",
        "--output",
        "json",
        env=running.env,
    )
    checks = {c["id"]: c for c in result.json()["checks"]}
    assert "keyvault.key" not in checks and "campaign.window" not in checks
    assert checks["keyvault.unwrap"]["status"] == "skip"
    assert checks["keyvault.unwrap"]["summary"] == "needs keyvault.key, which was skipped"
    assert checks["campaign.trigger"]["status"] == "pass"  # it runs after them, needs neither
    assert result.exit_code == 0, result


@pytest.mark.parametrize(
    "args",
    [
        ("run", "--lab", "healthy", "--timeout", "nan"),
        ("run", "--lab", "healthy", "--timeout", "inf"),
        ("run", "--lab", "healthy", "--trigger-deadline", "inf"),
        ("run", "--lab", "healthy", "--trigger-deadline", "nan"),
        ("runbook", "walk", "cosmosdb-auth-errors", "--lab", "healthy", "--wait", "nan"),
        ("runbook", "walk", "cosmosdb-auth-errors", "--lab", "healthy", "--wait", "inf"),
        (
            "runbook",
            "walk",
            "cosmosdb-auth-errors",
            "--lab",
            "healthy",
            "--trigger-deadline",
            "inf",
        ),
        ("delays", "x.parquet", "--query-timeout", "nan"),
        ("delays", "x.parquet", "--upstream-threshold", "inf"),
    ],
)
def test_a_budget_that_never_ends_is_refused(args: tuple[str, ...]) -> None:
    """nan compares false with every bound and inf never runs out: both are usage errors."""
    from tests.harness import run_cli

    result = run_cli(*args)
    assert result.exit_code == 2, result
    assert args[-1] in result.stderr and "Traceback" not in result.stderr
