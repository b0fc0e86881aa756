"""The sources' answers that say nothing of the setup: a limitation, never a finding or a right."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from diagnose.azure.rest import RESOURCE_GRAPH_PATH, Reply
from diagnose.timeline import activity, changes, entra, logs
from diagnose.timeline.model import Event, Query, SourceReport, Targets
from diagnose.timeline.window import window_end
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

    get_all = get

    def request(self, method: str, path: str, params: Any = None, body: Any = None) -> Reply:
        return self.get(path)

    def post(
        self, path: str, params: Any = None, body: Any = None, *, service: Any = None
    ) -> Reply:
        return self.get(path)


def _collect(graph: Any) -> tuple[list[Event], SourceReport]:
    report = entra.report()
    return _guarded([report], lambda: entra.collect(graph, APP_ID, SINCE, UNTIL, report)), report


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


VAULT = "/subscriptions/s1/resourceGroups/rg-cmk/providers/Microsoft.KeyVault/vaults/kv1"
TARGETS = Targets(APP_ID, VAULT, None, None, "s1")
UNTIL = datetime(2026, 3, 2, tzinfo=UTC)
DENIED = {"error": {"code": "AuthorizationFailed", "message": "no"}}
ACTIVITY = "/subscriptions/s1/providers/microsoft.insights/eventtypes/management/values"
AUDITS = "/v1.0/auditLogs/directoryAudits"
PRINCIPAL = Reply(200, {"value": [{"id": OID, "displayName": "cmk"}]}, "", "Graph")


def _source(name: str, replies: dict[str, Reply]) -> SourceReport:
    graph = Graph(replies)
    if name == entra.NAME:
        report = entra.report()
        _guarded([report], lambda: entra.collect(graph, APP_ID, SINCE, UNTIL, report))
    else:
        module = activity if name == activity.NAME else changes
        report = module.report()
        _guarded([report], lambda: module.collect(graph, TARGETS, SINCE, UNTIL, report))
    return report


@pytest.mark.parametrize(
    "name, path",
    [
        (activity.NAME, ACTIVITY),
        (changes.NAME, RESOURCE_GRAPH_PATH),
        (entra.NAME, AUDITS),
    ],
)
def test_a_right_is_named_only_when_the_service_refused_in_its_own_words(
    name: str, path: str
) -> None:
    principal = {"/v1.0/servicePrincipals": PRINCIPAL}
    refused = _source(name, {**principal, path: Reply(403, DENIED, path, "ARM")})
    assert refused.limitation is not None and refused.limitation.permission
    for bare in (Reply(403, "<html>Forbidden</html>", path, "ARM"), Reply(503, None, path, "ARM")):
        report = _source(name, {**principal, path: bare})
        assert report.limitation is not None and str(bare.status) in report.limitation.reason
        assert report.limitation.permission is None, report.limitation


class _Response:
    """Enough of an azure-core HTTP response for an HttpResponseError."""

    def __init__(self, status: int, text: str) -> None:
        self.status_code, self.reason, self._text = status, "Forbidden", text
        self.headers: dict[str, str] = {}
        self.request = None

    def text(self, encoding: str | None = None) -> str:
        return self._text


class _Refusing:
    def __init__(self, text: str) -> None:
        self.text = text

    def query_resource(self, *args: Any, **kwargs: Any) -> Any:
        from azure.core.exceptions import HttpResponseError

        raise HttpResponseError(response=_Response(403, self.text))

    query_workspace = query_resource


@pytest.mark.parametrize(
    "text, named",
    [
        ('{"error": {"code": "InsufficientAccessError", "message": "no"}}', True),
        ("<html>Forbidden</html>", False),
    ],
)
def test_log_analytics_names_its_right_only_on_its_own_refusal(text: str, named: bool) -> None:
    report = logs.reports()[0]
    found = [
        Query("Log Analytics", f"resource {VAULT}", "p", "AZKVAuditLogs"),
        Query("Log Analytics", f"resource {VAULT}", "p", "AzureDiagnostics"),
    ]
    rows = logs._source_rows(_Refusing(text), logs.KEY_VAULT, found, SINCE, UNTIL, "u", report)
    assert rows == [] and report.limitation is not None and "403" in report.limitation.reason
    assert (report.limitation.permission is not None) == named, report.limitation


class Recording(Graph):
    """As Graph, and keeps the parameters each GET was asked with."""

    def __init__(self, replies: dict[str, Reply]) -> None:
        super().__init__(replies)
        self.asked: list[tuple[str, dict[str, str]]] = []

    def get(self, path: str, params: dict[str, str] | None = None) -> Reply:
        self.asked.append((path, dict(params or {})))
        return super().get(path, params)

    get_all = get


def test_the_audit_log_is_asked_for_the_window_only() -> None:
    """Every other source bounds its query by `until`; so does the audit log (review)."""
    graph = Recording({"/v1.0/servicePrincipals": PRINCIPAL})
    report = entra.report()
    _guarded([report], lambda: entra.collect(graph, APP_ID, SINCE, UNTIL, report))
    flt = next(p["$filter"] for path, p in graph.asked if path == AUDITS)
    assert "activityDateTime ge 2026-03-01" in flt and "activityDateTime le 2026-03-02" in flt


def test_every_resource_group_the_activity_log_refused_is_named() -> None:
    """Two groups refused: the source's limitation names both, not only the last (review)."""
    account = "/subscriptions/s1/resourceGroups/rg-other/providers/Microsoft.DocumentDB/databaseAccounts/c1"
    targets = Targets(APP_ID, VAULT, None, account, "s1")
    graph = Graph({ACTIVITY: Reply(403, DENIED, ACTIVITY, "Azure Resource Manager")})
    report = activity.report()
    _guarded([report], lambda: activity.collect(graph, targets, SINCE, UNTIL, report))
    assert report.limitation is not None
    assert "rg-cmk" in report.limitation.reason and "rg-other" in report.limitation.reason


def test_a_window_reaching_the_present_ends_on_the_next_whole_second() -> None:
    """The sources are asked in whole seconds: `le 11:30:04Z` would drop a change made at
    11:30:04.3 by a walk that ran just before (CI caught it: the walk's re-enable went missing)."""
    now = datetime(2026, 12, 1, 11, 30, 4, 300_000, tzinfo=UTC)
    end = window_end(now)
    assert end == datetime(2026, 12, 1, 11, 30, 5, tzinfo=UTC) and end > now
    assert window_end(end) == end  # a whole second stays as it is
    graph = Recording({"/v1.0/servicePrincipals": PRINCIPAL})
    report = entra.report()
    _guarded([report], lambda: entra.collect(graph, APP_ID, SINCE, end, report))
    flt = next(p["$filter"] for path, p in graph.asked if path == AUDITS)
    assert "activityDateTime le 2026-12-01T11:30:05Z" in flt
