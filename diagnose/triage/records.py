"""Split lines into records: the unit inside which a signature's conditions must all hold.

A record is a log entry with its continuation lines (a stack trace, a message a
log viewer wrapped, a pretty-printed body), one JSON-lines entry, one pasted
HTTP message (status line, headers, blank line, body) or one paragraph. A new
record starts at a line that opens with a timestamp, a JSON object, an HTTP
status or request line, or after a blank line; records are capped in lines
and bytes so that unrelated text is never glued together for long.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MAX_LINES = 50
MAX_BYTES = 1 << 20

_HTTP = re.compile(
    rb"\s*(?:HTTP/\d(?:\.\d)? \d{3}|(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+ HTTP/)"
)
_START = re.compile(
    rb"(?:\[?\d{4}[-/]\d\d[-/]\d\d[T ]\d"  # 2026-11-26T01:02:03 / 2026/11/26 01:02
    rb"|\[?\d\d:\d\d:\d\d"  # 01:02:03
    rb"|\[?[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d"  # syslog: Nov 26 01:02
    rb"|\[?[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d\d"  # java.util.logging: Nov 26, 2026 1:02:03 AM
    rb"|\[?\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d"  # log4j DATE: 26 Nov 2026 01:02:03,456
    rb"|\[?\d{1,2}/\d{1,2}/\d{4},? \d{1,2}:\d\d"  # US: .NET en-US, Azure portal exports
    rb"|\s*\{\s*\""  # a JSON-lines entry
    rb"|\s*\[\s*\{"
    rb"|<\d{1,3}>)"  # syslog priority
)


def split(lines: Sequence[bytes]) -> list[tuple[int, int]]:
    """Records as [start, end) line indices; blank lines belong to no record."""
    records: list[tuple[int, int]] = []
    start: int | None = None
    size = 0
    http_headers = False  # inside an HTTP message's headers: its blank line does not end it
    body_next = False  # the line after that blank line is the body, whatever it looks like
    for i, line in enumerate(lines):
        if not line.strip():
            if start is not None and http_headers:
                http_headers, body_next = False, True
                continue
            if start is not None and not body_next:
                records.append((start, i))
                start = None
            continue
        is_http = _HTTP.match(line) is not None
        new = start is None or (
            not body_next
            and (
                is_http
                or _START.match(line) is not None
                or i - start >= MAX_LINES
                or size >= MAX_BYTES
            )
        )
        if new:
            if start is not None:
                records.append((start, i))
            start, size, http_headers = i, 0, is_http
        body_next = False
        size += len(line)
    if start is not None:
        records.append((start, len(lines)))
    return records


def starts(line: bytes) -> bool:
    """True when `line` starts a record (a timestamp, a JSON object, an HTTP message...)."""
    return _HTTP.match(line) is not None or _START.match(line) is not None


def _line_start(buf: bytes, at: int) -> int:
    return buf.rfind(b"\n", 0, at) + 1


def _line_end(buf: bytes, at: int) -> int:
    """Offset just past the line holding `at` (past its newline, or the end of `buf`)."""
    nl = buf.find(b"\n", at)
    return len(buf) if nl < 0 else nl + 1


def _http_head_above(buf: bytes, blank: int) -> int | None:
    """The start of an HTTP message whose headers end at the blank line at `blank`, if any."""
    at = blank
    for _ in range(MAX_LINES):
        if at == 0:
            return None
        at = _line_start(buf, at - 1)
        line = buf[at : _line_end(buf, at)]
        if not line.strip():
            return None
        if _HTTP.match(line):
            return at
        if _START.match(line):
            return None
    return None


def window(buf: bytes, at: int) -> tuple[int, int]:
    """Byte offsets [lo, hi) of whole lines that hold the whole record around offset `at`.

    Cheap: it walks from the line holding `at` to the nearest record boundaries (usually
    that line itself), so `split` then runs on a few lines, not on a whole block.
    """
    lo = _line_start(buf, at)
    for _ in range(MAX_LINES):
        if lo == 0:
            break
        above = _line_start(buf, lo - 1)
        if not buf[above:lo].strip():  # a blank line: only an HTTP message spans it
            head = _http_head_above(buf, above)
            lo = head if head is not None else lo
            break
        if starts(buf[lo : _line_end(buf, lo)]):
            break
        lo = above
    http = _HTTP.match(buf, lo) is not None
    hi = _line_end(buf, at)
    after_blank = False
    for _ in range(MAX_LINES):
        if hi >= len(buf):
            break
        end = _line_end(buf, hi)
        line = buf[hi:end]
        if not line.strip():
            if not http:
                break
            http, after_blank = False, True  # the headers end; the body follows
            hi = end
            continue
        if starts(line) and not after_blank:
            break
        after_blank = False
        hi = end
    return lo, hi
