"""delays sources: random CSV and JSON-lines content through the real CLI (a small bound: each
example starts DuckDB), and random trigger logs. A traceback here is for the delays owner.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.delays import handmade
from tests.fuzz import FUZZ_CLI, assert_ended_cleanly
from tests.harness import run_cli

CELL = st.one_of(
    st.sampled_from(
        [
            "",
            "2026-11-20T10:00:00Z",
            "2026-13-45T99:99:99Z",
            "1700000000",
            "1e999",
            "nan",
            "-inf",
            "9" * 5000,
            "sent",
            "delivered",
            "bounce",
            "UMA-1",
            "camp-1",
            handmade.EMAIL,
            "\x1b]0;pwned\x07",
            "\u202e",
            '"',
            "'; drop table x; --",
        ]
    ),
    st.text(max_size=20),
)
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), CELL)
JSON_VALUE = st.recursive(
    JSON_SCALAR,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(handmade.COLUMNS + ["_experience", "x"]), inner, max_size=4
        )
    ),
    max_leaves=10,
)
DELAYS_FUZZ = settings(FUZZ_CLI, max_examples=15)  # each example starts DuckDB
HEADER = st.lists(
    st.sampled_from(handmade.COLUMNS + ["", "x", "timestamp"]), min_size=1, max_size=9
)


def to_csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@DELAYS_FUZZ
@given(header=HEADER, rows=st.lists(st.lists(CELL, max_size=9), max_size=8))
def test_random_csv(tmp_path: Path, header: list[str], rows: list[list[str]]) -> None:
    path = tmp_path / "feedback.csv"
    path.write_text(to_csv(header, rows), encoding="utf-8")
    assert_ended_cleanly(run_cli("delays", str(path), "--output", "json"))


@DELAYS_FUZZ
@given(
    events=st.lists(
        st.one_of(st.dictionaries(st.sampled_from(handmade.COLUMNS), CELL), JSON_VALUE),
        max_size=8,
    ),
    garbage=st.sampled_from(["", "{", "not json", "\x00", "[1, 2]"]),
)
def test_random_json_lines(tmp_path: Path, events: list[Any], garbage: str) -> None:
    path = tmp_path / "feedback.jsonl"
    path.write_text(
        "\n".join(json.dumps(e) for e in events) + ("\n" + garbage if garbage else ""),
        encoding="utf-8",
    )
    assert_ended_cleanly(run_cli("delays", str(path), "--output", "json"))


@DELAYS_FUZZ
@given(
    rows=st.lists(st.tuples(CELL, CELL), max_size=6),
    header=st.sampled_from([["executionId", "requestedAt"], ["requestedAt"], ["x", "y"]]),
)
def test_random_trigger_logs(
    tmp_path: Path, rows: list[tuple[str, str]], header: list[str]
) -> None:
    source = handmade.write_csv(tmp_path / "feedback.csv")
    log = tmp_path / "triggers.csv"
    log.write_text(to_csv(header, [list(r) for r in rows]), encoding="utf-8")
    assert_ended_cleanly(
        run_cli("delays", str(source), "--trigger-log", str(log), "--output", "json")
    )


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_a_5000_digit_number_in_a_json_trigger_log(tmp_path: Path, suffix: str) -> None:
    source = handmade.write_csv(tmp_path / "feedback.csv")
    event = f'{{"executionId": "UMA-1", "requestedAt": {"9" * 5000}}}'
    log = tmp_path / f"triggers{suffix}"
    log.write_text(f"[{event}]\n" if suffix == ".json" else event + "\n")
    result = run_cli("delays", str(source), "--trigger-log", str(log), "--output", "json")
    assert_ended_cleanly(result)
    assert result.exit_code == 2
