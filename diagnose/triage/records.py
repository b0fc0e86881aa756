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
