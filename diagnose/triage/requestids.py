"""The request ids a record carries: what ties a 500 to the Cosmos DB error behind it.

Fields: `x-request-id`, `requestId`/`request_id`, `ActivityId`/`x-ms-activity-id`,
`client-request-id`/`x-ms-client-request-id`, as a header (`name: value`), a JSON
member (plain or escaped inside a string) or `name=value`. Values of 6 to 128
characters; an all-zero GUID is no id. Like `timestamps.locate`, `locate` only looks
at the shape of the text, so its answer holds for every record of one cache key.
"""

from __future__ import annotations

import re
from itertools import repeat
from operator import getitem

MAX_IDS = 4  # ids read per record

_FIELD = re.compile(
    rb"(?<![a-z0-9])(?:request|activity)[-_]?id(?:\\?[\"'])?\s{0,3}[:=]\s{0,3}(?:\\?[\"'])?"
    rb"(?P<v>[0-9a-z][0-9a-z._:-]{5,127})",
    re.IGNORECASE,
)


def locate(text: bytes) -> tuple[tuple[int, int], ...]:
    """[start, end) of the id values in `text` (at most MAX_IDS)."""
    spans = []
    for m in _FIELD.finditer(text):
        spans.append(m.span("v"))
        if len(spans) == MAX_IDS:
            break
    return tuple(spans)


def values(texts: list[bytes], spans: tuple[tuple[int, int], ...]) -> list[tuple[bytes, ...]]:
    """The ids at `spans` of each text (as read, not masked), lower case; an all-zero GUID
    is no id."""
    if not spans:
        return [()] * len(texts)
    columns: list[list[bytes]] = [
        list(map(bytes.lower, map(getitem, texts, repeat(slice(a, b)))))  # type: ignore[arg-type]
        for a, b in spans
    ]
    if len(spans) == 1:
        (column,) = columns
        if all(map(bytes.strip, column, repeat(b"0-"))):
            return list(zip(column))
        return [(v,) if v.strip(b"0-") else () for v in column]
    if all(all(map(bytes.strip, column, repeat(b"0-"))) for column in columns):
        return list(zip(*columns, strict=True))
    return [tuple(v for v in row if v.strip(b"0-")) for row in zip(*columns, strict=True)]
