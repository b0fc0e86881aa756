"""The lab's Resource Graph over the fleet: the CMK query of the inventory, scopes, pages joined by
$skipToken, and the KQL evaluator's case-insensitive `in~`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import requests

from diagnose.fleet.inventory import Scope
from diagnose.lab import Lab, kql
from diagnose.lab.services.resourcegraph import PATH
from tests.fleet.test_throttling import bearer


def ask(lab: Lab, body: dict[str, object]) -> dict[str, object]:
    url = lab.urls["arm"] + PATH.replace("\\", "") + "?api-version=2024-04-01"
    answer = requests.post(url, json=body, headers=bearer(lab), verify=lab.ca_bundle, timeout=20)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert isinstance(data, dict)
    return data


def test_pages_follow_skip_tokens_and_scopes_narrow(lab: Callable[..., Lab]) -> None:
    started = lab("fleet")
    assert started.fleet is not None
    query = Scope().accounts_query()
    ids: list[str] = []
    token = None
    pages = 0
    while True:
        options: dict[str, object] = {"$top": 20, **({"$skipToken": token} if token else {})}
        page = ask(started, {"query": query, "options": options})
        pages += 1
        assert page["totalRecords"] == 50 and page["resultTruncated"] == "false"
        ids += [row["id"] for row in page["data"]]  # type: ignore[union-attr, index]
        token = page.get("$skipToken")
        if not token:
            break
    assert pages == 3 and len(ids) == len(set(ids)) == 50
    assert ids == sorted(ids)  # `order by id asc`: pages in a stable order
    expected = sorted(w.cosmos.id for w in started.fleet.worlds)
    assert ids == expected
    sub = started.fleet.subscription_ids[2]
    narrowed = ask(started, {"query": query, "subscriptions": [sub]})
    assert {row["subscriptionId"] for row in narrowed["data"]} == {sub}  # type: ignore[union-attr, index]
    row = narrowed["data"][0]  # type: ignore[index]
    assert row["keyVaultKeyUri"].startswith("https://") and "/keys/" in row["keyVaultKeyUri"]
    assert row["defaultIdentity"].startswith("UserAssignedIdentity=")


def test_in_tilde_folds_case() -> None:
    table = kql.Table({"g": "string"}, [{"g": "RG-One"}, {"g": "rg-two"}, {"g": "other"}])
    result = kql.run(
        "T | where g in~ ('rg-one', 'RG-TWO')", {"T": table}, datetime.now(UTC)
    ).objects()
    assert [r["g"] for r in result] == ["RG-One", "rg-two"]
    exact = kql.run("T | where g in ('rg-one')", {"T": table}, datetime.now(UTC)).objects()
    assert exact == []
