"""The off-loopback guard refuses, in this process and in the processes the tests start."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys

import pytest

from tests.guard import diagnose_test_guard as guard
from tests.harness import GUARD_DIR, GUARD_LOG, clean_environ, run_cli

TEST_NET = "192.0.2.1"  # TEST-NET-1 (RFC 5737): documentation only, never routed
MESSAGE = f"diagnose test guard: connection to {TEST_NET}:9 refused (off-loopback)"

CONNECT = (
    "import socket\n"
    "try:\n"
    f"    socket.create_connection(({TEST_NET!r}, 9), timeout=3)\n"
    "except OSError as exc:\n"
    "    print(type(exc).__name__, exc)\n"
)
ATTEMPT = (  # a non-blocking connect: starts the attempt and says how it went, without waiting
    "import socket\n"
    "s = socket.socket(); s.setblocking(False)\n"
    f"print('ERRNO', s.connect_ex(({TEST_NET!r}, 9)))\n"
)


def test_the_guard_is_on_in_this_process() -> None:
    assert guard.installed()
    for connect in (
        lambda: socket.create_connection((TEST_NET, 9), timeout=3),
        lambda: socket.socket().connect((TEST_NET, 9)),
        lambda: socket.socket().connect_ex((TEST_NET, 9)),
        lambda: socket.socket(socket.AF_INET6).connect(("2001:db8::1", 9)),
        lambda: socket.create_connection(("169.254.169.254", 80), timeout=3),
    ):
        with pytest.raises(OSError, match="diagnose test guard: connection to .* refused"):
            connect()
    refused = guard.take_refused()
    assert refused[0] == MESSAGE
    assert len(refused) == 5


def test_without_the_guard_the_connection_would_have_been_attempted() -> None:
    """The original connect_ex, on a non-blocking socket: in progress or unreachable, not refused by us."""
    s = socket.socket()
    s.setblocking(False)
    try:
        code = guard._original["connect_ex"](s, (TEST_NET, 9))
    finally:
        s.close()
    assert code in (errno.EINPROGRESS, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EAGAIN)
    assert guard.take_refused() == []


def test_loopback_and_local_sockets_pass() -> None:
    assert guard.refusal(("127.0.0.1", 443)) is None
    assert guard.refusal(("127.8.9.10", 443)) is None
    assert guard.refusal(("::1", 443, 0, 0), socket.AF_INET6) is None
    assert guard.refusal(("::ffff:127.0.0.1", 443, 0, 0), socket.AF_INET6) is None
    assert guard.refusal(("localhost", 443)) is None
    assert guard.refusal("/tmp/some.sock", socket.AF_UNIX) is None
    assert guard.refusal(("host.invalid", 443)) is None  # does not resolve: nothing to connect
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=3):
            pass
    assert guard.take_refused() == []


def test_a_name_lookup_never_asks_a_resolver_off_the_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """IP literals and localhost resolve; `.invalid` fails at once; any other name is refused
    (and logged) before a resolver is asked, since the resolver is off the machine."""
    asked: list[str] = []

    def resolve(host: str, port: object, *args: object) -> list[tuple]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setitem(guard._original, "getaddrinfo", resolve)
    assert socket.getaddrinfo("localhost", 443)
    assert socket.getaddrinfo("127.0.0.5", 443)
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("vault.lab.invalid", 443)
    assert guard.take_refused() == []  # .invalid is not a refusal: it simply does not exist
    with pytest.raises(socket.gaierror, match="looking up login.microsoftonline.com refused"):
        socket.getaddrinfo("login.microsoftonline.com", 443)
    assert guard.take_refused() == [
        "diagnose test guard: looking up login.microsoftonline.com refused (a resolver off the machine)"
    ]
    assert asked == ["localhost", "127.0.0.5"]
    assert guard.refusal(("partly.example", 443)) is None  # not resolved, so nothing to connect
    assert guard.take_refused() == [
        "diagnose test guard: looking up partly.example refused (a resolver off the machine)"
    ]


def test_a_subprocess_carries_the_guard_and_logs_what_it_refused() -> None:
    GUARD_LOG.new_lines()
    out = subprocess.run(
        [sys.executable, "-c", CONNECT],
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == f"OffLoopbackRefused {MESSAGE}", out.stderr
    (line,) = GUARD_LOG.new_lines()
    assert line.endswith(MESSAGE)


def test_the_guard_composes_with_a_pythonpath_of_the_test(tmp_path) -> None:
    (tmp_path / "probe_module.py").write_text("VALUE = 42\n")
    env = clean_environ({"PYTHONPATH": str(tmp_path)})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(GUARD_DIR), str(tmp_path)]
    code = "import probe_module, socket; print(probe_module.VALUE, socket.create_connection.__module__)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["42", guard.__name__.rsplit(".", 1)[-1]], out.stderr


def test_without_the_guard_a_subprocess_would_have_attempted_it() -> None:
    env = {
        k: v
        for k, v in clean_environ().items()
        if k not in ("PYTHONPATH", "DIAGNOSE_TEST_GUARD_LOG")
    }
    out = subprocess.run(
        [sys.executable, "-c", ATTEMPT], env=env, capture_output=True, text=True, timeout=60
    )
    assert "diagnose test guard" not in out.stdout + out.stderr
    assert out.stdout.split()[0] == "ERRNO", out.stderr
    assert int(out.stdout.split()[1]) in (errno.EINPROGRESS, errno.ENETUNREACH, errno.EHOSTUNREACH)
    assert GUARD_LOG.new_lines() == []


def test_the_cli_without_credential_variables_never_probes_the_metadata_address(lab) -> None:
    """No AZURE_CLIENT_*: the chain finds no credential without probing IMDS; exit 3 says so.

    run_cli itself fails the test if the CLI's process refused any connection; the log is read
    again here so that the assertion is explicit.
    """
    running = lab("healthy")
    env = {k: v for k, v in running.env.items() if not k.startswith("AZURE_CLIENT")}
    GUARD_LOG.new_lines()
    result = run_cli("run", "--only", "principal.enabled", "--output", "json", env=env, timeout=120)
    assert GUARD_LOG.new_lines() == []
    assert result.exit_code == 3, result
    (check,) = result.json()["checks"]
    assert check["status"] == "error"
    assert "credential" in check["summary"] and "DefaultAzureCredential" in check["summary"]
