"""When it started: each cause's timeline, read from the records' own timestamps.

Through the real CLI: two records of the same cause, written in each timestamp form the
issue lists, give the right first and last seen (UTC; a time without a zone is UTC); a
syslog time takes the file's modification year and the output says so; records
without a time are counted apart; text shows a strip, Markdown a table.
"""

from __future__ import annotations

import calendar
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.harness import clean_environ, diagnose_command, run_cli

from .helpers import explain_json

EVIDENCE = (
    "Microsoft.Azure.Cosmos.CosmosException : Response status code does not indicate success: "
    "Forbidden (403); Substatus: 4000; ActivityId: 5f1d2c3b-4a59-4e8f-a7b6-c5d4e3f2a1b0; Reason: "
    "(Access to your account is currently revoked because the Azure Cosmos DB service is unable "
    "to obtain the AAD authentication token for the account's default identity);"
)
FIRST = calendar.timegm((2026, 11, 26, 3, 4, 5))  # 2026-11-26T03:04:05Z
LAST = FIRST + 3 * 3600 + 7 * 60 + 9  # 06:11:14Z

# form: (a line for a record at an epoch time, first_seen, last_seen)
FORMS = {
    "iso-zulu-millis": (
        lambda t, e: f"{_utc(t, '%Y-%m-%dT%H:%M:%S')}.250Z ERROR [ajo] {e}",
        "2026-11-26T03:04:05.250Z",
        "2026-11-26T06:11:14.250Z",
    ),
    "iso-offset": (
        lambda t, e: f"{_utc(t + 3600, '%Y-%m-%dT%H:%M:%S')}+01:00 ERROR [ajo] {e}",
        "2026-11-26T03:04:05Z",
        "2026-11-26T06:11:14Z",
    ),
    "iso-without-zone-log4j": (
        lambda t, e: f"{_utc(t, '%Y-%m-%d %H:%M:%S')},500 ERROR [main] c.a.Ajo - {e}",
        "2026-11-26T03:04:05.500Z",
        "2026-11-26T06:11:14.500Z",
    ),
    "dotnet-nlog": (
        lambda t, e: f"{_utc(t, '%Y-%m-%d %H:%M:%S')}.1234|ERROR|Ajo.Worker|{e}",
        "2026-11-26T03:04:05.123Z",
        "2026-11-26T06:11:14.123Z",
    ),
    "azure-monitor-timegenerated": (
        lambda t, e: (
            f'{{"TenantId":"0d7c2a91-55e3-4d0e-9f3a-1c2b3d4e5f60",'
            f'"TimeGenerated":"{_utc(t, "%Y-%m-%dT%H:%M:%S")}.1234567Z","Message":"{e}"}}'
        ),
        "2026-11-26T03:04:05.123Z",
        "2026-11-26T06:11:14.123Z",
    ),
    "azure-portal-export-us": (
        lambda t, e: f'{_us(t)}.123 {_ampm(t)},"{e}"',
        "2026-11-26T03:04:05.123Z",
        "2026-11-26T06:11:14.123Z",
    ),
    "epoch-seconds": (
        lambda t, e: f'{{"ts":{t},"level":"error","msg":"{e}"}}',
        "2026-11-26T03:04:05Z",
        "2026-11-26T06:11:14Z",
    ),
    "epoch-milliseconds": (
        lambda t, e: f'{{"timestamp":{t}042,"level":"error","msg":"{e}"}}',
        "2026-11-26T03:04:05.042Z",
        "2026-11-26T06:11:14.042Z",
    ),
    "java-util-logging": (
        lambda t, e: f"{_java(t)} com.adobe.ajo.Worker handle\nSEVERE: {e}",
        "2026-11-26T03:04:05Z",
        "2026-11-26T06:11:14Z",
    ),
    "log4j-date": (
        lambda t, e: f"{_utc(t, '%d %b %Y %H:%M:%S')},007 ERROR [main] {e}",
        "2026-11-26T03:04:05.007Z",
        "2026-11-26T06:11:14.007Z",
    ),
}


def _utc(t: int, fmt: str) -> str:
    import time

    return time.strftime(fmt, time.gmtime(t))


def _hour12(t: int) -> int:
    hour = int(_utc(t, "%H")) % 12
    return hour or 12


def _ampm(t: int) -> str:
    return "AM" if int(_utc(t, "%H")) < 12 else "PM"


def _us(t: int) -> str:
    return f"{int(_utc(t, '%m'))}/{int(_utc(t, '%d'))}/{_utc(t, '%Y')}, {_hour12(t)}:{_utc(t, '%M:%S')}"


def _java(t: int) -> str:
    return f"{_utc(t, '%b')} {int(_utc(t, '%d'))}, {_utc(t, '%Y')} {_hour12(t)}:{_utc(t, '%M:%S')} {_ampm(t)}"


def _timeline(document: dict, code: str) -> dict:
    entry = next(d for d in document["diagnosis"] if d["code"] == code)
    return entry["timeline"]


@pytest.mark.parametrize("form", FORMS)
def test_first_and_last_seen_in_every_form(form: str, tmp_path: Path) -> None:
    line, first, last = FORMS[form]
    noise = f"{_utc(FIRST - 60, '%Y-%m-%dT%H:%M:%SZ')} INFO [ajo] request completed status=200"
    # the last record first: first and last seen come from the times, not the order
    log = "\n".join(
        [noise, line(LAST, EVIDENCE), line(FIRST, EVIDENCE), line(FIRST + 90, EVIDENCE)]
    )
    path = tmp_path / "app.log"
    path.write_text(log + "\n", encoding="utf-8")
    status, doc, _ = explain_json(str(path))
    assert status == 1
    timeline = _timeline(doc, "cosmos.revoked.4000")
    assert (timeline["first_seen"], timeline["last_seen"]) == (first, last)
    assert timeline["count"] == 3 and timeline["undated"] == 0
    assert timeline["bucket_s"] == 300  # three hours and seven minutes: coarser than a minute
    assert sum(b["count"] for b in timeline["buckets"]) == 3
    assert doc["notes"] == []


def test_a_syslog_time_takes_the_files_year_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "syslog"
    path.write_text(
        f"Nov 26 03:04:05 ajo-host ajo[812]: {EVIDENCE}\nNov 26 03:06:00 ajo-host ajo[812]: {EVIDENCE}\n",
        encoding="utf-8",
    )
    modified = calendar.timegm((2025, 12, 1, 0, 0, 0))
    os.utime(path, (modified, modified))
    _, doc, _ = explain_json(str(path))
    timeline = _timeline(doc, "cosmos.revoked.4000")
    assert (timeline["first_seen"], timeline["last_seen"]) == (
        "2025-11-26T03:04:05Z",
        "2025-11-26T03:06:00Z",
    )
    assert timeline["bucket_s"] == 60
    assert [b["count"] for b in timeline["buckets"]] == [1, 0, 1]
    assert (
        len(doc["notes"]) == 1 and "2025" in doc["notes"][0] and "modification" in doc["notes"][0]
    )
    text = run_cli("explain", str(path)).stdout
    assert "2025" in text and "no year" in text


def test_stdin_from_a_file_is_that_files_year_and_a_pipe_is_the_current_one(
    tmp_path: Path,
) -> None:
    """`explain - < file` reads the file: its modification year, said so; a pipe has none."""
    path = tmp_path / "syslog"
    path.write_text(f"Nov 26 03:04:05 ajo-host ajo[812]: {EVIDENCE}\n", encoding="utf-8")
    modified = calendar.timegm((2025, 12, 1, 0, 0, 0))
    os.utime(path, (modified, modified))
    with path.open("rb") as redirected:
        proc = subprocess.run(
            [*diagnose_command(), "explain", "-o", "json", "-"],
            stdin=redirected,
            capture_output=True,
            env=clean_environ(),
            timeout=60,
        )
    notes = json.loads(proc.stdout)["notes"]
    assert len(notes) == 1 and "2025 (its modification year)" in notes[0], notes
    piped = run_cli("explain", "-o", "json", "-", stdin=path.read_text()).json()
    (note,) = piped["notes"]
    assert "(the current year)" in note and str(datetime.now(UTC).year) in note, note


def test_a_syslog_time_after_the_file_was_written_is_the_year_before(tmp_path: Path) -> None:
    path = tmp_path / "syslog"
    path.write_text(f"Dec 31 23:59:58 ajo-host ajo[812]: {EVIDENCE}\n", encoding="utf-8")
    modified = calendar.timegm((2027, 1, 1, 0, 5, 0))  # rotated just after the new year
    os.utime(path, (modified, modified))
    _, doc, _ = explain_json(str(path))
    assert _timeline(doc, "cosmos.revoked.4000")["first_seen"] == "2026-12-31T23:59:58Z"


def test_records_without_a_time_are_counted_apart(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text(
        f"2026-11-26T03:04:05Z ERROR {EVIDENCE}\n\n{EVIDENCE}\n\n"
        f"2026-13-45T03:04:05Z ERROR {EVIDENCE}\n",  # no such month: no time
        encoding="utf-8",
    )
    _, doc, _ = explain_json(str(path))
    timeline = _timeline(doc, "cosmos.revoked.4000")
    assert (timeline["count"], timeline["undated"]) == (3, 2)
    assert timeline["first_seen"] == timeline["last_seen"] == "2026-11-26T03:04:05Z"
    assert doc["counts"]["cosmos.revoked.4000"] == 3


def test_text_shows_a_strip_and_markdown_a_table(tmp_path: Path) -> None:
    lines = [
        f"{_utc(FIRST + 60 * minute + second, '%Y-%m-%dT%H:%M:%SZ')} ERROR {EVIDENCE}"
        for minute in range(5)
        for second in range(minute * 3)
    ]
    path = tmp_path / "app.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    text = run_cli("explain", str(path)).stdout
    assert "seen 30 times, 2026-11-26 03:05:05Z → 03:08:16Z" in text
    strip = next(line for line in text.splitlines() if "seen 30 times" in line)
    assert strip.rstrip().endswith("per minute") and "▂" in strip and "█" in strip
    markdown = run_cli("explain", "--output", "markdown", str(path)).stdout
    assert "## Timeline" in markdown
    rows = [r for r in markdown.splitlines() if r.startswith("| 2026-11-26 03:0")]
    assert [r.rsplit("|", 2)[1].strip() for r in rows] == ["3", "6", "9", "12"]
