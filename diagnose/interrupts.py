"""Ctrl-C and the end of the process: the first interrupt unwinds, the second one ends it at once.

The first SIGINT raises KeyboardInterrupt in the main thread, as Python does, and is
remembered, so that a library which turns it into its own error (DuckDB answers
"Query interrupted") can be told apart from a failure (`requested()`). A second
SIGINT, while the command is still printing what it has or cleaning up, exits at
once with 130 and no traceback. After the report, `leave()` ends the process even
when a worker thread (a thread pool's, an SDK's) is still blocked on a read: the
interpreter would join it at exit, so `--timeout` bounds the process, not only the
report.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from types import FrameType

INTERRUPTED = 130

_requested = threading.Event()


def requested() -> bool:
    """Whether Ctrl-C was pressed in this process."""
    return _requested.is_set()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    if _requested.is_set():  # the second Ctrl-C: no more unwinding
        _flush()
        with contextlib.suppress(OSError):
            os.write(2, b"\nInterrupted again: exiting now.\n")
        os._exit(INTERRUPTED)
    _requested.set()
    raise KeyboardInterrupt


def _quiet_worker_failure(args: threading.ExceptHookArgs) -> None:
    """A worker thread's uncaught exception (an SDK's background refresh after the lab stopped,
    a read abandoned at the deadline) is logged for --debug, never printed as a traceback: the
    check that owned the work already reported what it could not decide."""
    import logging

    logging.getLogger("diagnose.threads").debug(
        "thread %s ended with %s", getattr(args.thread, "name", "?"), args.exc_type.__name__
    )


def install() -> None:
    """Handle SIGINT as above (only the main thread may install a handler), and keep worker
    threads' failures off the terminal."""
    threading.excepthook = _quiet_worker_failure
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)


def _lingering() -> list[threading.Thread]:
    """Threads still alive besides this one. The interpreter would wait for a non-daemon one;
    a daemon one still inside C code when the interpreter finalizes can abort the process
    ("FATAL: exception not rethrown", signal 6) after the report was printed."""
    me = threading.current_thread()
    return [t for t in threading.enumerate() if t is not me and t.is_alive()]


def leave(code: int) -> None:
    """Exit with `code`; at once (after flushing) when a worker thread is still alive."""
    _flush()
    if _lingering():
        # Ctrl-C from here on changes nothing: the report is out.
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        os._exit(code)
    sys.exit(code)
