"""The request ids a record carries: what ties a 500 to the Cosmos DB error behind it.

Fields: `x-request-id`, `requestId`/`request_id`, `ActivityId`/`x-ms-activity-id`,
`client-request-id`/`x-ms-client-request-id`, as a header (`name: value`), a JSON
member (plain or escaped inside a string) or `name=value`. Values of 6 to 128
characters; an all-zero GUID is no id. Like `timestamps.locate`, `locate` only looks
at the shape of the text, so its answer holds for every record of one cache key.
"""

from __future__ import annotations

import re

MAX_IDS = 4  # ids read per record

_FIELD = re.compile(
    rb"(?<![a-z0-9])(?:request|activity)[-_]?id(?:\\?[\"'])?\s{0,3}[:=]\s{0,3}(?:\\?[\"'])?"
    rb"(?P<v>[0-9a-z][0-9a-z._:-]{5,127})",
    re.IGNORECASE,
)
_NULL = re.compile(rb"[0\-]+")


def locate(text: bytes) -> tuple[tuple[int, int], ...]:
    """[start, end) of the id values in `text` (at most MAX_IDS)."""
    spans = []
    for m in _FIELD.finditer(text):
        spans.append(m.span("v"))
        if len(spans) == MAX_IDS:
            break
    return tuple(spans)


def values(text: bytes, spans: tuple[tuple[int, int], ...]) -> tuple[str, ...]:
    """The ids at `spans` of `text` (the original text, not the masked one), lower case."""
    found = []
    for start, end in spans:
        value = text[start:end]
        if not _NULL.fullmatch(value):
            found.append(value.decode("ascii", "replace").lower())
    return tuple(found)
