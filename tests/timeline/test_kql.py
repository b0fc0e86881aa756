"""The lab's one KQL evaluator: the pinned subset answers, anything else is refused by kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from diagnose.lab import kql

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
ROWS = [
    {
        "TimeGenerated": NOW - timedelta(hours=1),
        "Op": "KeyUnwrap",
        "Status": 403,
        "Who": {"claim": {"appid": "A"}},
    },
    {
        "TimeGenerated": NOW - timedelta(hours=2),
        "Op": "KeyUnwrap",
        "Status": 200,
        "Who": {"claim": {"appid": "A"}},
    },
    {
        "TimeGenerated": NOW - timedelta(days=2),
        "Op": "KeyUpdate",
        "Status": 200,
        "Who": {"claim": {"upn": "x@y"}},
    },
    {"TimeGenerated": NOW - timedelta(days=9), "Op": "KeyGet", "Status": 200, "Who": None},
]
TABLES = {
    "Logs": kql.Table(
        {"TimeGenerated": "datetime", "Op": "string", "Status": "int", "Who": "dynamic"}, ROWS
    )
}


def run(query: str) -> kql.Result:
    return kql.run(query, TABLES, NOW)


@pytest.mark.parametrize(
    ("where", "count"),
    [
        ("Op == 'KeyUnwrap'", 2),
        ("Op != 'KeyUnwrap'", 2),
        ("Op =~ 'keyupdate'", 1),
        ("Op in ('KeyGet', 'KeyUpdate')", 2),
        ("TimeGenerated between (datetime(2026-01-08T00:00:00Z) .. now())", 3),
        ("TimeGenerated > ago(1d)", 2),
        ("Op has 'keyget'", 1),
        ("Op contains 'Unw'", 2),
        ("isnotempty(Who)", 3),
        ("Status >= 400 or Op == 'KeyGet'", 2),
        ("Op == 'KeyUnwrap' and not(Status == 403)", 1),
        ("tostring(Who.claim.appid) == 'A'", 2),
    ],
)
def test_where(where: str, count: int) -> None:
    assert len(run(f"Logs | where {where}").rows) == count


def test_project_extend_order_take() -> None:
    result = run(
        "Logs | extend who = tostring(Who.claim.appid) | where isnotempty(who) "
        "| project TimeGenerated, Op, who | order by TimeGenerated asc | take 1"
    )
    assert [n for n, _ in result.columns] == ["TimeGenerated", "Op", "who"]
    assert result.cells() == [["2026-01-10T10:00:00.000Z", "KeyUnwrap", "A"]]
    assert (
        run("Logs | order by TimeGenerated | limit 1").rows[0]["Op"] == "KeyUnwrap"
    )  # desc default


def test_summarize_count_by_bin() -> None:
    result = run("Logs | summarize n = count() by Op, bin(TimeGenerated, 1d)")
    assert [n for n, _ in result.columns] == ["Op", "TimeGenerated", "n"]
    assert ["KeyUnwrap", "2026-01-10T00:00:00.000Z", 2] in result.cells()


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("Logs | join Other", "unsupported"),
        ("Logs | mv-expand Who", "unsupported"),
        ("Logs | summarize max(Status)", "unsupported"),
        ("Logs | where strlen(Op) > 1", "unsupported"),
        ("Nope | take 1", "semantic"),
        ("Logs | where Missing == 1", "semantic"),
        ("Logs | where (Op ==", "syntax"),
        ("Logs | take x", "syntax"),
    ],
)
def test_outside_the_subset_is_refused(query: str, kind: str) -> None:
    with pytest.raises(kql.KqlError) as caught:
        run(query)
    assert caught.value.kind == kind
