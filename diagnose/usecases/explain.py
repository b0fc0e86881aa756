"""The core of `diagnose explain`: evidence in, matches and a diagnosis out."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from diagnose import diagnosis
from diagnose.catalogue import Catalogue
from diagnose.exitstatus import ExitStatus, decide
from diagnose.model import DiagnosisEntry, Finding, Severity
from diagnose.triage import correlate as correlation
from diagnose.triage.inputs import InputProblem, blocks, display_name, open_raw
from diagnose.triage.scanner import Match, Scanner
from diagnose.triage.signatures import compile_catalogue


@dataclass
class Explanation:
    inputs: list[str]
    matches: list[Match] = field(default_factory=list)
    diagnosis: list[DiagnosisEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # inputs that could not be read (fully)
    counts: dict[str, int] = field(default_factory=dict)  # matches per code, kept or not
    catalogue: str = ""  # the version of the catalogue the signatures came from
    interrupted: bool = False  # Ctrl-C stopped the reading: the matches cover what was read

    def worst(self) -> Severity | None:
        return max((e.severity for e in self.diagnosis), key=lambda s: s.rank, default=None)

    def exit_status(self, fail_on: Severity = Severity.FAIL) -> ExitStatus:
        """1 when a cause reaches `fail_on`; else 2 when an input could not be read in full; else 0."""
        status = decide((e.severity for e in self.diagnosis), undecided=False, fail_on=fail_on)
        if status is ExitStatus.OK and self.problems:
            return ExitStatus.USAGE
        return status


KEEP_PER_CODE = 20  # matches kept per code and input: memory stays flat however long the input


def _guarded(source: Iterator[bytes], problems: list[str]) -> Iterator[bytes]:
    """The blocks until the input breaks; the break becomes a problem, the scan still finishes."""
    try:
        yield from source
    except InputProblem as exc:
        problems.append(str(exc))


@dataclass
class Scan:
    """What the inputs showed: the first matches of each code, the problems met, counts per code."""

    matches: list[Match] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False


# (input name, bytes read so far, its size when known): how far the reading is, for progress
OnRead = Callable[[str, int, int | None], None]


def scan_inputs(paths: Sequence[str], scanner: Scanner, on_read: OnRead | None = None) -> Scan:
    """Scan every input; Ctrl-C ends the scan with what was read so far (`interrupted`)."""
    scan = Scan()
    try:
        _scan(paths, scanner, scan, on_read)
    except KeyboardInterrupt:
        scan.interrupted = True
    return scan


def _counted(
    source: Iterator[bytes], stream: BinaryIO, name: str, on_read: OnRead | None
) -> Iterator[bytes]:
    """The blocks, telling `on_read` how many bytes of the input were read after each."""
    if on_read is None:
        yield from source
        return
    try:
        total: int | None = os.fstat(stream.fileno()).st_size or None
    except (OSError, ValueError, AttributeError):
        total = None
    read = 0
    for block in source:
        read += len(block)
        try:
            position = stream.tell() if total else read  # gzip: the compressed bytes read
        except (OSError, ValueError):
            position = read
        on_read(name, position, total)
        yield block


def _scan(paths: Sequence[str], scanner: Scanner, scan: Scan, on_read: OnRead | None) -> None:
    matches, problems, counts = scan.matches, scan.problems, scan.counts
    seen: set[tuple[str, str, int]] = set()
    for path in paths:
        kept: dict[str, int] = {}
        name = display_name(path)
        try:
            with open_raw(path) as stream:
                source = _counted(blocks(stream, name), stream, name, on_read)
                for match in scanner.scan(_guarded(source, problems), name):
                    key = (match.code, match.source, match.line)
                    if key in seen:
                        continue
                    counts[match.code] = counts.get(match.code, 0) + 1
                    kept[match.code] = kept.get(match.code, 0) + 1
                    if kept[match.code] <= KEEP_PER_CODE:
                        seen.add(key)
                        matches.append(match)
        except InputProblem as exc:
            problems.append(str(exc))


def explain(
    paths: Sequence[str], catalogue: Catalogue, on_read: OnRead | None = None
) -> Explanation:
    """Scan `paths` (`-` is stdin), correlate, and build the diagnosis root cause first.

    `on_read` is told how far each input was read (progress on a terminal)."""
    scanner = Scanner(compile_catalogue(catalogue))
    scan = scan_inputs(paths, scanner, on_read)
    raw, problems, raw_counts = scan.matches, scan.problems, scan.counts
    matches = correlation.correlate(raw, catalogue)
    renamed = {r.code: m.code for r, m in zip(raw, matches, strict=True)}
    counts: dict[str, int] = {}
    for code, n in raw_counts.items():
        counts[renamed.get(code, code)] = counts.get(renamed.get(code, code), 0) + n
    ordered = sorted(matches, key=lambda m: correlation.rank(m.code, catalogue))
    findings = [
        (
            m.source,
            Finding(
                code=m.code,
                message=f"{m.source}:{m.line}: {m.excerpt}",
                severity=catalogue.cause(m.code).severity,
                evidence={"source": m.source, "line": m.line, "excerpt": m.excerpt},
            ),
        )
        for m in ordered
    ]
    # Findings arrive in causal order; severity then position decide (see diagnosis.build).
    entries = diagnosis.build(findings, catalogue, rank=lambda _source: 0)
    return Explanation(
        inputs=[display_name(p) for p in paths],
        matches=matches,
        diagnosis=entries,
        problems=problems,
        counts=counts,
        catalogue=catalogue.version,
        interrupted=scan.interrupted,
    )
