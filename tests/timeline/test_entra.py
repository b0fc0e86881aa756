"""Entra ID's audit log source: what Graph's answers to the principal lookup may and may not say."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from diagnose.azure.rest import Reply
from diagnose.timeline import entra
from diagnose.timeline.model import Event, SourceReport
from diagnose.usecases.timeline import _guarded

APP_ID = "11111111-2222-3333-4444-555555555555"
SINCE = datetime(2026, 3, 1, tzinfo=UTC)


class Graph:
    """Answers every GET of `path` with the Reply given for it (an empty list otherwise)."""

    def __init__(self, replies: dict[str, Reply]) -> None:
        self.replies = replies

    def get(self, path: str, params: dict[str, str] | None = None) -> Reply:
        empty = Reply(200, {"value": []}, path, "Microsoft Graph")
        return self.replies.get(path, empty)


def _collect(graph: Any) -> tuple[list[Event], SourceReport]:
    report = entra.report()
    return _guarded(report, lambda: entra.collect(graph, APP_ID, SINCE, report)), report


@pytest.mark.parametrize(
    "status, body", [(503, None), (429, None), (401, None), (404, "<html>not found</html>")]
)
def test_an_unanswered_principal_lookup_is_a_limitation_not_an_absent_principal(
    status: int, body: Any
) -> None:
    path = "/v1.0/servicePrincipals"
    events, report = _collect(Graph({path: Reply(status, body, path, "Microsoft Graph")}))
    assert events == []
    assert report.limitation is not None and str(status) in report.limitation.reason
    assert not any("knows no principal" in n for n in report.notes), report.notes


def test_graph_answering_no_principal_in_either_list_is_said_as_a_note() -> None:
    events, report = _collect(Graph({}))
    assert events == [] and report.limitation is None
    assert report.notes == [f"Microsoft Graph knows no principal with app id {APP_ID}"]


OID = "99999999-8888-7777-6666-555555555555"


@pytest.mark.parametrize(
    "reply, refused, unknown",
    [
        (Reply(404, {"error": {"code": "Request_ResourceNotFound"}}, "", "Graph"), False, {OID}),
        (Reply(403, {"error": {"code": "Authorization_RequestDenied"}}, "", "Graph"), True, set()),
        # a gateway's or firewall's page says nothing of the principal or of the rights
        (Reply(404, "<html>Not Found</html>", "", "Graph"), False, set()),
        (Reply(403, "<html>Forbidden</html>", "", "Graph"), False, set()),
        (Reply(401, None, "", "Graph"), False, set()),
    ],
)
def test_a_caller_is_unknown_or_refused_only_in_graphs_own_words(
    reply: Reply, refused: bool, unknown: set[str]
) -> None:
    names = entra.Names(Graph({f"/v1.0/servicePrincipals/{OID}": reply}))
    assert names(OID) is None
    assert (names.refused is not None) == refused
    assert names.unknown == unknown
