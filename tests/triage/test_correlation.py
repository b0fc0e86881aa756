"""Are the 500s and the 403s the same failures? Linked, co-occurring, unexplained, counted right.

Through the real CLI, on a log where some 500s have no 403 near them and request ids are
shared only sometimes (and under different field names).
"""

from __future__ import annotations

import calendar
import json
import time
from pathlib import Path

from tests.harness import run_cli

from .helpers import explain_json

T0 = calendar.timegm((2026, 11, 26, 3, 0, 0))
COSMOS = (
    "Microsoft.Azure.Cosmos.CosmosException : Response status code does not indicate success: "
    "Forbidden (403); Substatus: 4000; ActivityId: {activity}; Reason: (Access to your account is "
    "currently revoked because the Azure Cosmos DB service is unable to obtain the AAD "
    "authentication token for the account's default identity);"
)
CALL = "POST https://platform.adobe.io/ajo/im/executions/unitary returned 500"


def _ts(offset: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 + offset))


def cosmos(offset: int, activity: str, request: str | None = None) -> str:
    fields = {"timestamp": _ts(offset), "level": "ERROR"}
    if request:
        fields["requestId"] = request
    fields["msg"] = COSMOS.format(activity=activity)
    return json.dumps(fields)


def campaign(offset: int | None, field: str, rid: str, extra: str = "") -> str:
    fields = {} if offset is None else {"timestamp": _ts(offset)}
    fields |= {"level": "ERROR", field: rid, "msg": CALL + extra}
    return json.dumps(fields)


LOG = [
    cosmos(0, "5f1d2c3b-4a59-4e8f-a7b6-000000000001", "req-aaaaaa01"),
    campaign(5, "x-request-id", "req-aaaaaa01"),  # linked: its id was seen on a 403
    campaign(10, "x-request-id", "req-bbbbbb02"),  # linked later, by a 403 an hour on
    campaign(30, "x-request-id", "req-cccccc03"),  # co-occurring: a 403 30 s before
    campaign(40, "client-request-id", "act-ffffff06"),  # linked by an ActivityId
    campaign(1800, "x-request-id", "req-dddddd04"),  # unexplained: no 403 within 60 s
    campaign(1805, "x-request-id", "req-dddddd04"),  # shares an id, but only with a 500
    cosmos(2400, "act-ffffff06"),
    campaign(3000, "x-request-id", "req-gggggg07", ": " + COSMOS.format(activity="x")),  # both
    cosmos(3600, "5f1d2c3b-4a59-4e8f-a7b6-000000000002", "req-bbbbbb02"),
    campaign(None, "x-request-id", "req-eeeeee05"),  # no time to compare
]


def test_the_500s_are_sorted_by_what_ties_them_to_the_403s(tmp_path: Path) -> None:
    path = tmp_path / "incident.log"
    path.write_text("\n".join(LOG) + "\n", encoding="utf-8")
    status, doc, _ = explain_json(str(path))
    assert status == 1
    assert doc["correlation"] == {
        "server_errors": 8,
        "linked": 4,
        "co_occurring": 1,
        "unexplained_500s": 2,
        "undated": 1,
        "window_s": 60,
        "ids_kept": 20000,
    }
    assert doc["counts"] == {"cosmos.revoked.4000": 4, "campaign.server-error": 8}
    text = run_cli("explain", str(path)).stdout
    assert "Of the 8 campaign 500s: 4 linked" in text
    assert "1 co-occurring with that evidence within 60 s (seen together, not shown" in text
    assert "2 with no such evidence within 60 s; 1 without a time to compare." in text
    markdown = run_cli("explain", "--output", "markdown", str(path)).stdout
    assert "| 4 | 1 | 2 | 1 |" in markdown


def test_ids_link_across_files_whichever_is_read_first(tmp_path: Path) -> None:
    calls = tmp_path / "ajo.log"
    calls.write_text(
        "\n".join(campaign(600 + i, "x-request-id", f"req-{i:08d}") for i in range(6)) + "\n",
        encoding="utf-8",
    )
    cosmos_log = tmp_path / "cosmos.log"
    cosmos_log.write_text(
        "\n".join(cosmos(i, f"act-{i:08d}", f"req-{i:08d}") for i in (0, 2, 4)) + "\n",
        encoding="utf-8",
    )
    for order in ([calls, cosmos_log], [cosmos_log, calls]):
        _, doc, _ = explain_json(*map(str, order))
        c = doc["correlation"]
        # three 500s share an id with a 403 ten minutes earlier; the others are 10 min apart
        assert (c["server_errors"], c["linked"], c["co_occurring"], c["unexplained_500s"]) == (
            6,
            3,
            0,
            3,
        )


def test_no_500_no_correlation_to_report(tmp_path: Path) -> None:
    path = tmp_path / "cosmos.log"
    path.write_text(cosmos(0, "act-00000001", "req-00000001") + "\n", encoding="utf-8")
    _, doc, _ = explain_json(str(path))
    assert doc["correlation"]["server_errors"] == 0
    assert "campaign 500s" not in run_cli("explain", str(path)).stdout
