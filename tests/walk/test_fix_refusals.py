"""A fix's answer: only Graph's own refusal names a missing right; a gateway's 403 page does not."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from diagnose.azure.rest import Reply
from diagnose.catalogue import Fix
from diagnose.errors import NotPermitted
from diagnose.walk.fixes import FixPlan, apply

PLAN = FixPlan(
    Fix("enable-principal", "Re-enable the principal", "Application.ReadWrite.All"),
    "id-cosmos-cmk (0000)",
    "accountEnabled false -> true",
    "PATCH",
    "/v1.0/servicePrincipals/0000",
    {"accountEnabled": True},
)


def _answering(reply: Reply) -> Any:
    graph = SimpleNamespace(request=lambda method, path, body=None: reply)
    return SimpleNamespace(graph=graph)


def test_graphs_own_refusal_names_the_fixs_right() -> None:
    denied = {
        "error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}
    }
    with pytest.raises(NotPermitted) as raised:
        apply(_answering(Reply(403, denied, "", "Microsoft Graph")), PLAN)
    assert raised.value.permission == "Application.ReadWrite.All"
    assert "Authorization_RequestDenied" in raised.value.reason


@pytest.mark.parametrize("body", ["<html><body>403 Forbidden</body></html>", None])
def test_a_403_without_graphs_words_is_a_failure_said_as_such_not_a_missing_right(
    body: Any,
) -> None:
    with pytest.raises(RuntimeError) as raised:
        apply(_answering(Reply(403, body, "", "Microsoft Graph")), PLAN)
    assert "answered 403: no error of its own" in str(raised.value)
