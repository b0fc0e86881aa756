"""JSON lines whose first failure reason comes late: every reason is still counted.

DuckDB infers JSON types from the first 20,480 rows; a field null (or absent) in all of
them used to lose every later value, and `delays` reported zero failure reasons. The
same events as Parquet are the reference.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diagnose.delays import generate
from tests.delays.conftest import run_delays

SPEC = generate.Spec(events=60_000, seed=21)
REASON = "_experience.customerJourneyManagement.messageDeliveryfeedback.messageFailure.reason"
LATE = 38_000


def reasons(source: Path) -> dict[str, dict[str, int]]:
    result = run_delays(source, "--output", "json")
    assert result.exit_code in (0, 1), result
    return {
        g["campaign"]: {r["reason"]: r["events"] for r in g["failure_reasons"]}
        for g in result.json()["groups"]
    }


def _reason(row: dict, layout: str) -> str | None:
    if layout == "flat":
        return row.get(REASON)
    node = row
    for part in REASON.split("."):
        node = (node or {}).get(part)  # type: ignore[assignment]
    return node  # type: ignore[return-value]


def _drop_reason(row: dict, layout: str) -> None:
    if layout == "flat":
        row.pop(REASON, None)
    else:
        row["_experience"]["customerJourneyManagement"]["messageDeliveryfeedback"].pop(
            "messageFailure", None
        )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, int]]:
    path = tmp_path_factory.mktemp("ref") / "feedback.parquet"
    generate.write(path, SPEC, "parquet", "flat")
    found = reasons(path)
    assert sum(n for by in found.values() for n in by.values()) > 1000
    return found


@pytest.mark.parametrize("layout", ["nested", "flat"])
@pytest.mark.parametrize("null_as", ["null", "absent"])
def test_a_reason_first_seen_late_is_counted(
    reference: dict[str, dict[str, int]], tmp_path: Path, layout: str, null_as: str
) -> None:
    generated = tmp_path / "generated.jsonl"
    generate.write(generated, SPEC, "jsonl", layout)
    rows = [json.loads(line) for line in generated.read_text().splitlines()]
    rows.sort(key=lambda r: _reason(r, layout) is not None)  # every failure at the end
    first = next(i for i, r in enumerate(rows) if _reason(r, layout) is not None)
    assert first > LATE  # far past DuckDB's sample
    late = tmp_path / "late.jsonl"
    with late.open("w") as fh:
        for row in rows:
            if null_as == "absent" and _reason(row, layout) is None:
                _drop_reason(row, layout)
            fh.write(json.dumps(row) + "\n")
    assert reasons(late) == reference
