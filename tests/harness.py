"""The one way the tests run `diagnose`: the installed console script, as a subprocess.

`run_cli("run", "--lab", "healthy", "--output", "json")` runs the console script
of the venv that runs pytest (falling back to `python -m diagnose`) in a clean
environment (`clean_environ`: nothing of the developer's own profile) plus the
variables the test names, with a timeout and optional stdin, and returns a
`CliResult`. `CliResult.json()` parses stdout and validates it against its
JSON Schema whenever it carries a `schema` key, so every report the tests read
is validated. `spawn_cli` is the same for the few tests that need a terminal.
The `cli` fixture (tests/conftest.py) wraps it with per-test variables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.schemas import validate_document

if TYPE_CHECKING:
    import pexpect  # type: ignore[import-untyped]

# The variables that make up a user's profile (docs/design.md, profile precedence), and those that
# change how the output looks: none of the developer's own may reach the CLI under test.
PROFILE_PREFIXES = ("DIAGNOSE_", "AZURE_")
AMBIENT_NAMES = frozenset({"REQUESTS_CA_BUNDLE", "NO_COLOR"})

DEFAULT_TIMEOUT_S = 180.0

# The off-loopback guard (tests/guard/): a `sitecustomize.py` in this folder installs it in every
# Python the tests start; refusals are appended to the log every clean environment names.
GUARD_DIR = Path(__file__).resolve().parent / "guard"
GUARD_LOG_VARIABLE = "DIAGNOSE_TEST_GUARD_LOG"
CHAIN_VARIABLE = "AZURE_TOKEN_CREDENTIALS"


class GuardLog:
    """The file subprocesses append their refused connections to, read from where it was last read."""

    def __init__(self) -> None:
        handle, name = tempfile.mkstemp(prefix="diagnose-test-guard-", suffix=".log")
        os.close(handle)
        self.path = Path(name)
        self._read = 0

    def new_lines(self) -> list[str]:
        """The refusals logged since the last call (each is reported once)."""
        with self.path.open("rb") as log:
            log.seek(self._read)
            data = log.read()
        self._read += len(data)
        own = f"pid {os.getpid()}: "  # this process's own refusals fail the test on their own
        lines = data.decode("utf-8", errors="replace").splitlines()
        return [line for line in lines if not line.startswith(own)]

    def fail_on_refusals(self, what: str) -> None:
        """Fail the current test when a subprocess refused a connection since the last check."""
        lines = self.new_lines()
        if lines:
            pytest.fail(f"{what} tried to leave the machine:\n" + "\n".join(lines), pytrace=False)


GUARD_LOG = GuardLog()


def guard_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables that carry the guard into a subprocess: its folder first on PYTHONPATH, the log.

    And the Azure credential chain narrowed to its environment credential (AZURE_TOKEN_CREDENTIALS,
    azure-identity >= 1.23) unless the test names another: without AZURE_* variables the chain
    would otherwise probe the instance metadata address (169.254.169.254) for a managed identity,
    and run the developer's own `az`, `azd` or PowerShell login.
    """
    path = [str(GUARD_DIR), *(p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p)]
    unique = list(dict.fromkeys(path))
    return {
        "PYTHONPATH": os.pathsep.join(unique),
        GUARD_LOG_VARIABLE: str(GUARD_LOG.path),
        CHAIN_VARIABLE: environ.get(CHAIN_VARIABLE) or "EnvironmentCredential",
    }


def diagnose_command() -> list[str]:
    """The console script next to this interpreter, or `python -m diagnose` when there is none."""
    script = Path(sys.executable).parent / "diagnose"
    return [str(script)] if script.exists() else [sys.executable, "-m", "diagnose"]


def clean_environ(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ without any profile variable (DIAGNOSE_*, AZURE_*, …), then `overrides`.

    Always with the off-loopback guard (`guard_environ`), composed with any PYTHONPATH given.
    """
    base = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(PROFILE_PREFIXES) and name not in AMBIENT_NAMES
    }
    merged = {**base, **(overrides or {})}
    return {**merged, **guard_environ(merged)}


@dataclass(frozen=True)
class CliResult:
    """What one run of the CLI left: its exit status and its two streams, apart."""

    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Both streams, stdout first (for messages that may go to either)."""
        return self.stdout + self.stderr

    def json(self, schema_id: str | None = None) -> dict[str, Any]:
        """stdout parsed as one JSON object, validated against its schema when it names one."""
        try:
            document = json.loads(self.stdout)
        except ValueError:
            pytest.fail(
                f"diagnose {' '.join(self.args)}: stdout is not JSON: {self.stdout[:500]!r}\n"
                f"stderr: {self.stderr[-2000:]}"
            )
        assert isinstance(document, dict), f"a JSON object expected, got {document!r:.200}"
        if schema_id or "schema" in document:
            return validate_document(document, schema_id)
        return document

    def __str__(self) -> str:  # what an assertion message shows
        return (
            f"diagnose {' '.join(self.args)} -> {self.exit_code}\n"
            f"stdout: {self.stdout[-3000:]}\nstderr: {self.stderr[-2000:]}"
        )


def run_cli(
    *args: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    stdin: str | bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    cwd: Path | None = None,
) -> CliResult:
    """Run `diagnose ARGS…` to completion in a clean environment plus `env`."""
    words = tuple(map(str, args))
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        [*diagnose_command(), *words],
        env=clean_environ(env),
        input=data if data is not None else b"",  # never the terminal of pytest
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
    )
    result = CliResult(words, proc.returncode, _text(proc.stdout), _text(proc.stderr))
    GUARD_LOG.fail_on_refusals(f"diagnose {' '.join(words)}")
    return result


def _text(stream: bytes) -> str:
    """UTF-8 as the CLI writes it; a stray byte shows as U+FFFD rather than failing the test."""
    return stream.decode("utf-8", errors="replace").replace("\r\n", "\n")


def start_cli(
    *args: str | os.PathLike[str], env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start `diagnose ARGS…` in the background (servers such as `lab serve`); the caller stops it."""
    return subprocess.Popen(
        [*diagnose_command(), *map(str, args)],
        env=clean_environ(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def spawn_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    no_color: bool = False,
    timeout: float = 90,
    dimensions: tuple[int, int] = (24, 80),
) -> pexpect.spawn:
    """`diagnose ARGS…` on a pseudo-terminal (pexpect, TERM=xterm-256color), for tests that need one."""
    import pexpect

    terminal = {"TERM": "xterm-256color", **({"NO_COLOR": "1"} if no_color else {})}
    command, *prefix = diagnose_command()
    return pexpect.spawn(
        command,
        [*prefix, *args],
        env=clean_environ({**(env or {}), **terminal}),
        encoding="utf-8",
        timeout=timeout,
        dimensions=dimensions,
    )


@dataclass
class Cli:
    """`run_cli` with variables a test or fixture adds as it goes (a lab's profile, a state dir)."""

    env: dict[str, str] = field(default_factory=dict)

    def __call__(
        self,
        *args: str | os.PathLike[str],
        env: Mapping[str, str] | None = None,
        stdin: str | bytes | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        cwd: Path | None = None,
    ) -> CliResult:
        return run_cli(
            *args, env={**self.env, **(env or {})}, stdin=stdin, timeout=timeout, cwd=cwd
        )
