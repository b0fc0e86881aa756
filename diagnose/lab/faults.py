"""Faults between the tool and the services: `SERVICE:KIND[:COUNT][@PATH_REGEX]` (docs/lab.md "Faults").

A spec names a lab service, what goes wrong, how many matching requests get it
(default: every one), or for how long (`Ns`: every matching request for N seconds
from the first one), and, optionally, a regular expression the request's path
must match (`re.search`, case-insensitive). `Faults` is the lab's thread-safe
ledger of specs: the transport asks it, per request, which fault (if any) the
request gets, and the request log records the answer.
"""

from __future__ import annotations

import contextlib
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from diagnose.errors import InputError

SERVICES = ("entra", "graph", "arm", "vault", "cosmos", "ims", "platform", "loganalytics")

# Answered instead of the service's handler (the handler never runs).
BEFORE_HANDLER = (
    "429",
    "500",
    "502",
    "503",
    "gateway-404",
    "html-error",
    "reset-before-headers",
    "stall",
    "empty-200",
)
# Applied to the handler's answer on its way out (a write still happens).
ON_THE_WAY_OUT = ("reset-mid-body", "truncated", "garbled", "trickle", "malformed-200")
# Applied to the connection, before any request: no path is known, so no PATH_REGEX.
CONNECTION = ("wrong-cert", "refused", "dns")
KINDS = BEFORE_HANDLER + ON_THE_WAY_OUT + CONNECTION
# Statuses a client may retry: COUNT ≤ 2 of these is a transient fault the retries should absorb.
RETRYABLE = ("429", "500", "502", "503")

RETRY_AFTER_S = 1  # the 429's Retry-After (seconds): short, so a retry fits any check's deadline
MAX_WINDOW_S = 600  # the longest `Ns` a spec may give
TRICKLE_INTERVAL_S = 2.0  # trickle: one byte of the answer every this many seconds
INVALID_DOMAIN = "lab.invalid"  # dns: `<service>.lab.invalid`, RFC 2606/6761 never resolves

ENV_VARIABLE = "DIAGNOSE_LAB_FAULTS"
_SPEC = re.compile(
    r"^(?P<service>[a-z]+):(?P<kind>[a-z0-9-]+)(?::(?P<count>[^@]*))?(?:@(?P<path>.*))?$"
)
# Specs in DIAGNOSE_LAB_FAULTS are separated by commas; a comma inside a PATH_REGEX (`{1,3}`) is
# kept because a new spec must start with a service name and a colon.
_SPLIT = re.compile(r",\s*(?=(?:" + "|".join(SERVICES) + r"):)")


class BadFault(InputError):
    """A fault spec the lab cannot read (exit 2 on the command line)."""


@dataclass
class Fault:
    """One spec and how many more requests it may still fault (None: every one), or for how long.

    `window_s`: the fault lasts that many seconds from the first request it matches (a
    throttle "for a while"); its 429 then says, in `Retry-After`, how long is left.
    """

    service: str
    kind: str
    count: int | None = None
    path: re.Pattern[str] | None = None
    spec: str = ""
    hits: int = 0
    window_s: float | None = None
    started: float | None = None  # time.monotonic() of the first request in the window

    def matches(self, service: str, path: str, now: float) -> bool:
        if service != self.service or (self.count is not None and self.hits >= self.count):
            return False
        if self.left(now) == 0:
            return False
        return self.path is None or self.path.search(path) is not None

    def left(self, now: float) -> float | None:
        """Seconds left in the window (None: not a timed fault, or its window has not started)."""
        if self.window_s is None or self.started is None:
            return None
        return max(0.0, self.started + self.window_s - now)


def parse_fault(spec: str) -> Fault:
    """`SERVICE:KIND[:COUNT][@PATH_REGEX]` -> Fault; BadFault naming what is wrong."""
    text = spec.strip()
    where = f"fault spec {text!r}"
    m = _SPEC.match(text)
    if m is None:
        raise BadFault(f"{where}: expected SERVICE:KIND[:COUNT][@PATH_REGEX], e.g. vault:503:2")
    service, kind = m["service"], m["kind"]
    if service not in SERVICES:
        raise BadFault(
            f"{where}: unknown service {service!r}; choose one of: {', '.join(SERVICES)}"
        )
    if kind not in KINDS:
        raise BadFault(f"{where}: unknown kind {kind!r}; choose one of: {', '.join(KINDS)}")
    count: int | None = None
    window_s: float | None = None
    if m["count"] is not None:
        raw = m["count"]
        seconds = raw.endswith("s")
        number = raw[:-1] if seconds else raw
        if not number.isdigit() or int(number) < 1 or len(number) > 9:
            raise BadFault(
                f"{where}: COUNT must be a whole number from 1, or seconds (e.g. 5s), not {raw!r}"
            )
        if seconds and int(number) > MAX_WINDOW_S:
            raise BadFault(f"{where}: a window lasts at most {MAX_WINDOW_S}s, not {raw!r}")
        if kind in ("refused", "dns"):
            raise BadFault(f"{where}: {kind} lasts the lab's life; COUNT does not apply")
        if seconds and kind in CONNECTION:
            raise BadFault(
                f"{where}: {kind} counts connections; a window in seconds does not apply"
            )
        if seconds:
            window_s = float(number)
        else:
            count = int(number)
    path: re.Pattern[str] | None = None
    if m["path"] is not None:
        if kind in CONNECTION:
            raise BadFault(f"{where}: {kind} happens before any request; PATH_REGEX does not apply")
        if not m["path"]:
            raise BadFault(f"{where}: PATH_REGEX after '@' is empty")
        try:
            path = re.compile(m["path"], re.IGNORECASE)
        except re.error as exc:
            raise BadFault(
                f"{where}: PATH_REGEX {m['path']!r} is not a regular expression: {exc}"
            ) from None
    return Fault(service, kind, count, path, text, window_s=window_s)


def parse_faults(text: str) -> list[Fault]:
    """Comma-separated specs (DIAGNOSE_LAB_FAULTS); blank means none."""
    return [parse_fault(part) for part in _SPLIT.split(text.strip()) if part.strip()]


def faults_from_env(environ: dict[str, str] | None = None) -> list[Fault]:
    """The specs in DIAGNOSE_LAB_FAULTS, naming the variable when one is bad."""
    import os

    raw = (environ if environ is not None else dict(os.environ)).get(ENV_VARIABLE, "")
    try:
        return parse_faults(raw)
    except BadFault as exc:
        raise BadFault(f"{ENV_VARIABLE}: {exc}") from exc


@dataclass
class Faults:
    """The lab's specs; `take` hands out faults to requests, first matching spec first."""

    specs: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, specs: Iterable[str | Fault]) -> Faults:
        return cls([parse_fault(s) if isinstance(s, str) else s for s in specs])

    def take(self, service: str, path: str, kinds: Iterable[str] = KINDS) -> str | None:
        """The kind of fault this request (or connection, path "") gets, counted; None: no fault."""
        wanted = set(kinds)
        now = time.monotonic()
        with self._lock:
            for fault in self.specs:
                if fault.kind in wanted and fault.matches(service, path, now):
                    fault.hits += 1
                    if fault.window_s is not None and fault.started is None:
                        fault.started = now
                    return fault.kind
        return None

    def retry_after(self, service: str) -> int:
        """The `Retry-After` of a 429 for `service`: the seconds left in its throttle window,
        rounded up (ARM: "the number of seconds your application should wait"), else RETRY_AFTER_S."""
        now = time.monotonic()
        with self._lock:
            left = [
                fault.left(now)
                for fault in self.specs
                if fault.service == service and fault.kind == "429"
            ]
        windows = [value for value in left if value]
        return max(1, math.ceil(max(windows))) if windows else RETRY_AFTER_S

    def lasting(self, service: str, kind: str) -> bool:
        """True when `kind` (refused, dns) is set for `service` for the lab's life."""
        return any(f.service == service and f.kind == kind for f in self.specs)


# -- bodies -----------------------------------------------------------------------------------------

GATEWAY_404 = (
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
# A web application firewall's refusal page (the shape of Azure Application Gateway's): 403, HTML.
HTML_ERROR_STATUS = 403
HTML_ERROR = (
    "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n"
    "<center><h1>403 Forbidden</h1></center>\r\n"
    "<hr><center>Microsoft-Azure-Application-Gateway/v2</center>\r\n</body>\r\n</html>\r\n"
)
STATUS_ERRORS = {
    "429": ("TooManyRequests", "Rate limit is exceeded. Try again in 1 seconds."),
    "500": ("InternalServerError", "The service encountered an internal error."),
    "502": ("BadGateway", "The service received an invalid response from an upstream server."),
    "503": ("ServiceUnavailable", "The service is temporarily unavailable."),
}


def garble(data: bytes) -> bytes:
    """Bytes of the same length (at least 16) that are neither UTF-8 nor JSON, deterministically."""
    size = max(len(data), 16)
    return bytes((0xFF if i % 3 == 0 else (0x80 + (i * 37) % 0x7F)) for i in range(size))


def wrong_types(value: Any) -> Any:
    """The same object with every value of another JSON type (a string for a bool, ...)."""
    if isinstance(value, dict):
        return {k: wrong_types(v) for k, v in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return {"count": len(value)}
    return 0  # null


def malformed(path: str, body: object) -> object:
    """`{}` or the handler's answer with wrong types, fixed per path (a run is reproducible)."""
    import zlib

    if isinstance(body, dict) and body and zlib.crc32(path.encode()) % 2:
        return wrong_types(body)
    return {}


# -- dns: names under .invalid fail here, without asking a resolver ------------------------------

_resolver_lock = threading.Lock()
_resolver_users = 0
_real_getaddrinfo: Callable[..., Any] | None = None


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str) and name.rstrip(".").lower().endswith(".invalid"):
        # RFC 6761 §6.4: resolver APIs should answer "invalid." names negatively at once.
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert _real_getaddrinfo is not None
    return _real_getaddrinfo(host, *args, **kwargs)


@contextlib.contextmanager
def invalid_names_fail_locally() -> Iterator[None]:
    """While active, `*.invalid` fails in this process without a DNS query (glibc would send one).

    Used by an in-process lab with a `dns` fault, so the test never asks the machine's
    nameserver; other names resolve as before.
    """
    global _resolver_users, _real_getaddrinfo
    with _resolver_lock:
        if _resolver_users == 0:
            _real_getaddrinfo = socket.getaddrinfo
            socket.getaddrinfo = _getaddrinfo
        _resolver_users += 1
    try:
        yield
    finally:
        with _resolver_lock:
            _resolver_users -= 1
            if _resolver_users == 0 and _real_getaddrinfo is not None:
                socket.getaddrinfo = _real_getaddrinfo
                _real_getaddrinfo = None
