"""Tie the parts together: open the source, run the analysis, judge, build the diagnosis."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from diagnose.delays.analysis import Filters
from diagnose.delays.engine import Backend, analyse
from diagnose.delays.verdict import Thresholds, judge
from diagnose.errors import InputError
from diagnose.model import Severity
from diagnose.render.delays import Report


@dataclass(frozen=True)
class Request:
    source: str
    filters: Filters
    thresholds: Thresholds
    trigger_log: Path | None = None
    top: int = 10
    timeline: bool = False
    table: str = "ajo_message_feedback_event_dataset"
    dialect: str = "auto"
    connect_timeout: float = 10.0
    query_timeout: float = 900.0
    fail_on: Severity = Severity.FAIL


def open_backend(req: Request) -> tuple[Backend, dict[str, str]]:
    """The backend SOURCE names: a postgresql:// URL -> server, anything else -> local files."""
    from diagnose.delays import server

    if server.is_server(req.source):
        url = server.normalize(req.source)
        return server.ServerBackend(
            url, req.table, req.dialect, req.connect_timeout, req.query_timeout
        ), {
            "kind": "server",
            "description": server.describe_url(url) + f" table {req.table}",
        }
    scheme = server.other_scheme(req.source)
    if scheme and not Path(req.source).exists():
        raise InputError(
            f"SOURCE: {scheme}:// is not a source this command reads "
            "(expected a postgresql:// URL, libpq's key=value form, or local export files)"
        )
    from diagnose.delays.local import LocalBackend

    backend = LocalBackend(req.source, req.table)
    return backend, {"kind": "local", "description": backend.describe()}


def build(req: Request) -> Report:
    """The whole analysis of one request, as a report ready to render."""
    from diagnose import catalogue, diagnosis
    from diagnose.delays import triggers

    trig = triggers.load(req.trigger_log) if req.trigger_log else ()
    backend, source = open_backend(req)
    try:
        result = analyse(
            backend, req.filters, trig, req.top, req.timeline, req.thresholds.send_rate
        )
    finally:
        backend.close()
    source["dialect"] = result.dialect
    findings = []
    for group in result.groups:
        findings += [
            (f"{group.campaign} ({group.channel})", f) for f in judge(group, req.thresholds)
        ]
    cat = catalogue.default()
    entries = diagnosis.build(findings, cat, rank=lambda _source: 0)
    failing = any(f.severity.rank >= req.fail_on.rank for _, f in findings)
    return Report(
        source=source,
        analysis=result,
        thresholds=req.thresholds,
        diagnosis=entries,
        status="fail" if failing else "pass",
        catalogue=cat.version,
    )
