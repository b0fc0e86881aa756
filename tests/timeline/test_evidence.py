"""`--evidence`: explain's per-cause `timeline.first_seen` wins; without it, the matched line's stamp."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from diagnose.timeline.evidence import sightings


def _match(code: str, line: int, excerpt: str) -> dict[str, Any]:
    return {"code": code, "source": "ajo.log", "line": line, "excerpt": excerpt}


DOCUMENT = {
    "schema": "diagnose/explain@1",
    "problems": [],
    "matches": [
        _match("cosmos.revoked.4000", 7, "2026-03-02T02:31:52Z 403 substatus 4000"),
        _match("cosmos.revoked.4000", 3, "2026-03-02T02:35:00Z 403 substatus 4000"),
        _match("campaign.server-error", 9, "2026-03-02 02:32:03 500 from the execution call"),
        _match("campaign.limit", 11, "no time stamp on this line"),
    ],
    "diagnosis": [
        {
            "code": "cosmos.revoked.4000",
            "title": "Key revoked",
            # explain saw it first in a line the kept matches no longer hold
            "timeline": {"first_seen": "2026-03-02T02:31:40Z"},
        },
        {"code": "campaign.server-error", "title": "Campaign 500"},
    ],
}


def test_first_seen_from_explain_wins_over_the_line_stamps() -> None:
    events, report = sightings(DOCUMENT, {})
    by_code = {e.operation.split(":")[0]: e for e in events}
    assert by_code["cosmos.revoked.4000"].time == datetime(2026, 3, 2, 2, 31, 40, tzinfo=UTC)
    assert by_code["cosmos.revoked.4000"].object == "ajo.log:7"  # the earliest stamped line
    assert "(timeline.first_seen)" in " ".join(report.notes)


def test_without_first_seen_the_earliest_stamped_line_gives_the_time() -> None:
    events, report = sightings(DOCUMENT, {"campaign.limit": "Limit"})
    by_code = {e.operation.split(":")[0]: e for e in events}
    assert by_code["campaign.server-error"].time == datetime(2026, 3, 2, 2, 32, 3, tzinfo=UTC)
    assert by_code["campaign.server-error"].kind == "failure"
    assert "campaign.limit" not in by_code
    assert "no timestamp on the lines of: campaign.limit" in report.notes
    assert "earliest matched line" in " ".join(report.notes)
    assert report.events == 2


def test_a_document_without_first_seen_anywhere_is_todays_behaviour() -> None:
    plain = {**DOCUMENT, "diagnosis": [{"code": "cosmos.revoked.4000", "title": "Key revoked"}]}
    events, report = sightings(plain, {})
    first = next(e for e in events if e.operation.startswith("cosmos.revoked.4000"))
    assert first.time == datetime(2026, 3, 2, 2, 31, 52, tzinfo=UTC)
    assert not any("first_seen" in n for n in report.notes)
