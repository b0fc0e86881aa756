"""What a URL says about an execution call: which Adobe environment, which kind of execution."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

KINDS = ("unitary", "highthroughput", "audience")

PRODUCTION = "production"
STAGE = "stage"
LEGACY = "legacy"
UNKNOWN = "unknown"

# platform.adobe.io (VA7) and its regional siblings platform-nld2.adobe.io, platform-aus5...
_PLATFORM = re.compile(r"^platform(?:-(?P<region>[a-z0-9]+))?\.adobe\.io$")


def host_class(url: str | None) -> str:
    """production, stage, legacy or unknown (any other host, the lab's included)."""
    host = (urlsplit(url).hostname or "").lower() if url else ""
    if host == "cjm.adobe.io":
        return LEGACY
    match = _PLATFORM.match(host)
    if not match:
        return UNKNOWN
    return STAGE if (match.group("region") or "").startswith("stage") else PRODUCTION


def kind_from_path(path: str) -> str | None:
    """unitary, highthroughput or audience from an execution path; None when the path is not one.

    `/im/executions/unitary/highthroughput` (the high-throughput path for a few
    weeks in September 2025) reads as highthroughput.
    """
    segments = [s for s in path.split("/") if s]
    if "executions" in segments:
        rest = segments[len(segments) - segments[::-1].index("executions") :]
    else:
        rest = segments[-1:]
    if rest == ["unitary", "highthroughput"]:
        return "highthroughput"
    if len(rest) == 1 and rest[0] in KINDS:
        return rest[0]
    return None
