"""Logging for the whole process, set once at start: quiet libraries, `-v` and `--debug`.

Without a handler of its own, Python prints any library's warning on stderr (its
"last resort" handler): the Cosmos SDK's "Marking https://… unavailable for Read",
urllib3's retries, azure-core's notes, Python warnings. `setup()` installs one handler
on the root logger that drops every record that is not diagnose's own, so none of them
reaches the user, and routes Python warnings through it.

- `-v`/`--verbose`: diagnose's own notes (`logging.getLogger("diagnose…").info`).
- `--debug`: also diagnose's debug notes, the libraries' warnings, and one trace line per
  HTTP exchange, for support tickets: method, URL, status, time taken and the request ids
  the services give (`http_trace`). Never a header value but those ids, never a body.

Every line passes through `redact.redact_text` and `safe.escaped` before it is written.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from typing import Any

LOGGER = "diagnose"

# The response headers that identify one exchange to the service's support (Azure, Cosmos DB,
# Key Vault, Graph, Adobe): shown in the trace; no other header ever is.
REQUEST_ID_HEADERS = (
    "x-ms-request-id",
    "x-ms-client-request-id",
    "x-ms-correlation-request-id",
    "x-ms-activity-id",
    "x-ms-ags-diagnostic",
    "request-id",
    "client-request-id",
    "x-request-id",
    "apim-request-id",
)

_state = {"debug": False, "verbose": 0}
_lock = threading.Lock()
_handler: _Handler | None = None


class _Handler(logging.Handler):
    """Writes the records it lets through to stderr, redacted and escaped, one line each."""

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.name == LOGGER or record.name.startswith(LOGGER + ".")
        if own:
            return record.levelno >= _own_level()
        return bool(_state["debug"])  # a library's record: only with --debug

    def emit(self, record: logging.LogRecord) -> None:
        from diagnose.redact import redact_text
        from diagnose.render.safe import escaped

        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a library's malformed record must not break a command
            message = str(record.msg)
        lines = redact_text(message).splitlines() or [""]
        prefix = _prefix(record)
        text = "\n".join(f"{prefix}{line}" for line in lines)
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stderr: nothing to tell
            sys.stderr.write(escaped(text) + "\n")
            sys.stderr.flush()


def _prefix(record: logging.LogRecord) -> str:
    """`http: ` for diagnose.http's notes, `warning [azure.cosmos]: ` for a library's record."""
    if record.name == LOGGER or record.name.startswith(LOGGER + "."):
        area = record.name[len(LOGGER) + 1 :]
        level = "" if record.levelno <= logging.INFO else record.levelname.lower()
        return f"{' '.join(p for p in (level, area) if p)}: " if level or area else ""
    return f"{record.levelname.lower()} [{record.name}]: "


def setup(*, debug: bool = False, verbose: int = 0) -> None:
    """Install the handler once; later calls only raise the detail (`-v`, `--debug`)."""
    global _handler
    with _lock:
        _state["debug"] = bool(_state["debug"] or debug)
        _state["verbose"] = max(int(_state["verbose"]), verbose)
        root = logging.getLogger()
        if _handler is None:
            _handler = _Handler()
            root.addHandler(_handler)
            logging.captureWarnings(True)  # warnings.warn -> the "py.warnings" logger -> dropped
        # The root level lets libraries' warnings reach the handler only when they are wanted;
        # diagnose's own logger carries its own level.
        root.setLevel(logging.WARNING if _state["debug"] else logging.CRITICAL + 1)
        logging.getLogger(LOGGER).setLevel(_own_level())
        if _state["debug"]:
            http_trace()


def _own_level() -> int:
    """The lowest level of diagnose's own notes that is shown: debug, -v or neither."""
    if _state["debug"]:
        return logging.DEBUG
    return logging.INFO if _state["verbose"] else logging.WARNING


def debugging() -> bool:
    return bool(_state["debug"])


# --- the HTTP trace ---------------------------------------------------------------------------
_traced = False


def http_trace() -> None:
    """One `diagnose.http` debug line per HTTP exchange made through `requests`.

    Every client of the tool sends through `requests`: azure-core's transport (ARM, Graph,
    Key Vault, Cosmos DB), MSAL's token requests and the Adobe client. The trace wraps the
    transport adapter's `send`, so that it sees failures (a time-out, a refused connection)
    as well as answers, with the time each took.
    """
    global _traced
    if _traced:
        return
    _traced = True
    from requests.adapters import HTTPAdapter

    original = HTTPAdapter.send
    log = logging.getLogger(LOGGER + ".http")

    def send(self: HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            response = original(self, request, *args, **kwargs)
        except Exception as exc:
            took = (time.monotonic() - started) * 1000
            log.debug("%s %s -> %s after %.0f ms", request.method, request.url, _kind(exc), took)
            raise
        took = (time.monotonic() - started) * 1000
        ids = " ".join(
            f"{name}={response.headers[name]}"
            for name in REQUEST_ID_HEADERS
            if response.headers.get(name)
        )
        log.debug(
            "%s %s -> %s in %.0f ms%s",
            request.method,
            request.url,
            response.status_code,
            took,
            f" ({ids})" if ids else "",
        )
        return response

    HTTPAdapter.send = send  # type: ignore[method-assign]


def _kind(exc: BaseException) -> str:
    return type(exc).__name__
