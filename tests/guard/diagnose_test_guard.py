"""Tests never leave the machine: refuse every connection to an address off loopback.

`install()` patches `socket.socket.connect` / `connect_ex` and
`socket.create_connection` so that a connection to anything but 127.0.0.0/8,
::1 (or an AF_UNIX socket) raises `OffLoopbackRefused`, an OSError saying
"diagnose test guard: connection to X refused (off-loopback)". Name lookups are
guarded too, since a lookup asks a resolver off the machine: IP literals and
`localhost` resolve as usual, `*.invalid` fails at once without asking anyone
(RFC 6761 §6.4; the lab's `dns` fault uses it), and any other name is refused. Each refusal
is kept in `REFUSED` (the test process) and appended as a line to the file
named by DIAGNOSE_TEST_GUARD_LOG (subprocesses, through the `sitecustomize.py`
next to this file), so that the test which caused it fails.

Standard library only, no annotations evaluated at run time: the Azure CLI's
own Python loads it too.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

LOG_VARIABLE = "DIAGNOSE_TEST_GUARD_LOG"
PREFIX = "diagnose test guard: connection to"

REFUSED: list[str] = []  # what this process refused, in order
_lock = threading.Lock()
_original: dict[str, Any] = {}


class OffLoopbackRefused(ConnectionRefusedError):
    """A connection the guard stopped before it was attempted."""


def is_loopback(host: str) -> bool:
    """True for a literal loopback address (127.0.0.0/8, ::1, ::ffff:127.x.y.z)."""
    import ipaddress

    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def _is_literal(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def lookup_refusal(host: object) -> str | None:
    """Why looking `host` up is refused (it would ask a resolver off the machine), or None."""
    if host is None:
        return None
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    name = name.rstrip(".").lower()
    if not name or _is_literal(name) or name == "localhost" or name.endswith(".localhost"):
        return None
    return f"diagnose test guard: looking up {name} refused (a resolver off the machine)"


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host or "")
    if name.rstrip(".").lower().endswith(".invalid"):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (.invalid)")
    message = lookup_refusal(host)
    if message:
        _refuse(message)
        raise socket.gaierror(socket.EAI_NONAME, message)
    return _original["getaddrinfo"](host, *args, **kwargs)


def _resolved_off_loopback(host: str, port: object) -> list[str]:
    """The addresses `host` resolves to that are not loopback (a name that does not resolve: none)."""
    try:
        infos = _getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []  # resolving fails (or was refused, and logged); nothing will be connected
    return [str(info[4][0]) for info in infos if not is_loopback(str(info[4][0]))]


def refusal(address: object, family: int | None = None) -> str | None:
    """Why connecting to `address` is refused, or None when it stays on this machine."""
    if family is not None and family not in (socket.AF_INET, socket.AF_INET6):
        return None  # AF_UNIX and the like never leave the machine
    if not isinstance(address, tuple) or not address:
        return None
    host, port = str(address[0]), address[1] if len(address) > 1 else None
    if is_loopback(host):
        return None
    off = _resolved_off_loopback(host, port) if host else [host]
    if not off:
        return None
    target = f"{host}:{port}" if off == [host] else f"{host}:{port} ({', '.join(off)})"
    return f"{PREFIX} {target} refused (off-loopback)"


def _refuse(message: str) -> OffLoopbackRefused:
    with _lock:
        REFUSED.append(message)
        path = os.environ.get(LOG_VARIABLE)
        if path:
            try:
                with open(path, "a", encoding="utf-8") as log:
                    log.write(f"pid {os.getpid()}: {message}\n")
            except OSError:
                pass
    return OffLoopbackRefused(message)


def _connect(self: socket.socket, address: Any) -> None:
    message = refusal(address, self.family)
    if message:
        raise _refuse(message)
    _original["connect"](self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    message = refusal(address, self.family)
    if message:
        raise _refuse(message)
    return int(_original["connect_ex"](self, address))


def _create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
    message = refusal(address)
    if message:
        raise _refuse(message)
    return _original["create_connection"](address, *args, **kwargs)  # type: ignore[no-any-return]


def install() -> None:
    """Patch the socket module (once per process)."""
    if _original:
        return
    _original.update(
        connect=socket.socket.connect,
        connect_ex=socket.socket.connect_ex,
        create_connection=socket.create_connection,
        getaddrinfo=socket.getaddrinfo,
    )
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.create_connection = _create_connection
    socket.getaddrinfo = _getaddrinfo


def installed() -> bool:
    return bool(_original)


def take_refused() -> list[str]:
    """The refusals of this process so far, forgotten (a test that expects one takes it)."""
    with _lock:
        taken = list(REFUSED)
        REFUSED.clear()
    return taken
