"""The `diagnose delays` use case: check the request, open the source, run the analysis, judge,
build the diagnosis; and the plot, with one verdict per campaign."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diagnose.delays.analysis import Filters, check_ids, check_table
from diagnose.delays.engine import Backend, analyse
from diagnose.delays.result import Analysis
from diagnose.delays.verdict import Thresholds, judge
from diagnose.errors import InputError
from diagnose.exitstatus import ExitStatus, decide
from diagnose.model import DiagnosisEntry, Finding, Severity


@dataclass(frozen=True)
class Request:
    source: str
    filters: Filters
    thresholds: Thresholds
    trigger_log: Path | None = None
    top: int = 10
    plot: Path | None = None  # also gather the timeline, for a picture written here
    table: str = "ajo_message_feedback_event_dataset"
    dialect: str = "auto"
    connect_timeout: float = 10.0
    query_timeout: float = 900.0
    fail_on: Severity = Severity.FAIL


@dataclass
class DelaysReport:
    """The analysis of one request, judged: what the renderers print."""

    source: dict[str, Any]  # kind, description (no secret), dialect
    analysis: Analysis
    thresholds: Thresholds
    diagnosis: list[DiagnosisEntry]
    findings: list[tuple[str, Finding]]  # (campaign (channel), finding)
    catalogue: str
    fail_on: Severity = Severity.FAIL

    @property
    def exit_status(self) -> ExitStatus:
        return decide((f.severity for _, f in self.findings), undecided=False, fail_on=self.fail_on)

    @property
    def status(self) -> str:
        """pass | fail: whether a finding reaches --fail-on."""
        return "fail" if self.exit_status is ExitStatus.FINDINGS else "pass"


def check_request(req: Request) -> None:
    """Refuse what cannot work before any work is done (exit 2)."""
    from diagnose.delays import plot as plotting

    check_table(req.table)
    check_ids(req.filters.campaigns, "--campaign")
    check_ids(req.filters.executions, "--execution")
    since, until = req.filters.since, req.filters.until
    if since is not None and until is not None and since >= until:
        raise InputError("--since must be before --until")
    if req.plot:
        plotting.check_target(req.plot)
    if req.trigger_log and not req.trigger_log.is_file():
        raise InputError(f"--trigger-log {req.trigger_log}: no such file")


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


def build(req: Request) -> DelaysReport:
    """The whole analysis of one request, as a report ready to render."""
    from diagnose import catalogue, diagnosis
    from diagnose.delays import triggers

    check_request(req)
    trig = triggers.load(req.trigger_log) if req.trigger_log else ()
    backend, source = open_backend(req)
    try:
        result = analyse(
            backend, req.filters, trig, req.top, bool(req.plot), req.thresholds.send_rate
        )
    finally:
        backend.close()
    source["dialect"] = result.dialect
    findings: list[tuple[str, Finding]] = []
    for group in result.groups:
        findings += [
            (f"{group.campaign} ({group.channel})", f) for f in judge(group, req.thresholds)
        ]
    cat = catalogue.default()
    return DelaysReport(
        source=source,
        analysis=result,
        thresholds=req.thresholds,
        diagnosis=diagnosis.build(findings, cat, rank=lambda _source: 0),
        findings=findings,
        catalogue=cat.version,
        fail_on=req.fail_on,
    )


def campaign_verdicts(analysis: Analysis) -> dict[str, str]:
    """One verdict per campaign: on several channels, its first abnormal verdict wins."""
    worst: dict[str, str] = {}
    for g in analysis.groups:
        if worst.get(g.campaign, "none") == "none":
            worst[g.campaign] = g.verdict
    return worst


def write_plot(report: DelaysReport, path: Path) -> None:
    """The delays over time, each campaign drawn by its verdict, to `path` (.png, .svg or .html)."""
    from diagnose.delays import plot as plotting

    a = report.analysis
    listed = ", ".join(f"{g.campaign} {g.channel}: {g.verdict}" for g in a.groups)
    plotting.write(
        path,
        a.timeline,
        report.thresholds,
        title=f"Delivery delays - {report.source['description']}",
        summary=f"{a.events:,} events. Verdicts: {listed}.",
        verdicts=campaign_verdicts(a),
    )
