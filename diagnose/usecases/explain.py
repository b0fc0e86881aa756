"""The core of `diagnose explain`: evidence in, matches, timelines and a diagnosis out."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import BinaryIO, NamedTuple

from diagnose import diagnosis
from diagnose.catalogue import Catalogue
from diagnose.exitstatus import ExitStatus, decide
from diagnose.model import DiagnosisEntry, Finding, Severity
from diagnose.triage import correlate as correlation
from diagnose.triage.inputs import BLOCK_SIZE, InputProblem, blocks, display_name, open_raw, plain
from diagnose.triage.scanner import Batch, Match, Scanner, in_order, matches_of
from diagnose.triage.signatures import compile_catalogue
from diagnose.triage.timeline import Timeline
from diagnose.triage.timestamps import YearHint


class Progress(NamedTuple):
    """How far the reading of one input is (for a progress display)."""

    source: str  # the input's display name
    read: int  # bytes of the input read so far (of the compressed file, for gzip)
    size: int | None  # the input's size, when it is a file
    done: bool  # the input has been read to its end (or to where it broke)


ProgressCallback = Callable[[Progress], None]


@dataclass
class Explanation:
    inputs: list[str]
    matches: list[Match] = field(default_factory=list)
    diagnosis: list[DiagnosisEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # inputs that could not be read (fully)
    counts: dict[str, int] = field(default_factory=dict)  # matches per code, kept or not
    catalogue: str = ""  # the version of the catalogue the signatures came from
    timelines: dict[str, Timeline] = field(default_factory=dict)  # per code, as `counts`
    correlation: correlation.Correlation | None = None  # the 500 records and their evidence
    notes: list[str] = field(default_factory=list)  # how times were read (assumed years)
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


@dataclass
class Tally:
    """What the records of every input add up to."""

    matches: list[Match] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    timelines: dict[str, Timeline] = field(default_factory=dict)
    correlator: correlation.Correlator = field(default_factory=correlation.Correlator)
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C stopped the reading: the tally covers what was read

    def add(self, batches: list[Batch], source: str, kept: dict[str, int]) -> None:
        """The records of one block; `kept` counts the matches kept so far for this input."""
        counts, timelines = self.counts, self.timelines
        wanted = False
        for batch in batches:
            entry, n = batch.entry, len(batch.lines)
            for hit in entry.hits:
                code = hit.code
                counts[code] = counts.get(code, 0) + n
                timeline = timelines.get(code)
                if timeline is None:
                    timeline = timelines[code] = Timeline()
                timeline.add(batch.times)
                wanted = wanted or kept.get(code, 0) < KEEP_PER_CODE
            if entry.server_error or entry.explains:
                self.correlator.add(entry.server_error, entry.explains, batch.times, batch.ids)
        if wanted:
            cut = [
                b._replace(lines=b.lines[:KEEP_PER_CODE], texts=b.texts[:KEEP_PER_CODE])
                for b in batches
            ]
            self._keep(cut, source, kept)

    def then(self, later: Tally, lines_before: int, kept: dict[str, int]) -> None:
        """Take in the tally of the input's next part (read apart, `parts.py`); its line
        numbers count from its own start, `lines_before` lines into the input."""
        for code, n in later.counts.items():
            self.counts[code] = self.counts.get(code, 0) + n
        for code, timeline in later.timelines.items():
            if code in self.timelines:
                self.timelines[code].merge(timeline)
            else:
                self.timelines[code] = timeline
        for match in later.matches:
            if kept.get(match.code, 0) < KEEP_PER_CODE:
                kept[match.code] = kept.get(match.code, 0) + 1
                self.matches.append(replace(match, line=match.line + lines_before))
        self.problems += later.problems
        self.correlator.then(later.correlator)

    def _keep(self, batches: list[Batch], source: str, kept: dict[str, int]) -> None:
        """The first KEEP_PER_CODE matches of each code, in the order they occur."""
        for line, entry, text in in_order(batches):
            if all(kept.get(hit.code, 0) >= KEEP_PER_CODE for hit in entry.hits):
                continue
            for match in matches_of(entry, line, text, source):
                if kept.get(match.code, 0) < KEEP_PER_CODE:
                    kept[match.code] = kept.get(match.code, 0) + 1
                    self.matches.append(match)


def _within(batch: Batch, lo: int, hi: int) -> Batch:
    """The records of `batch` whose first line is in [lo, hi)."""
    lines = batch.lines
    if not lines or (lines[0] >= lo and lines[-1] < hi):
        return batch
    keep = [i for i, line in enumerate(lines) if lo <= line < hi]
    return batch._replace(
        lines=[lines[i] for i in keep],
        texts=[batch.texts[i] for i in keep],
        times=[batch.times[i] for i in keep],
        ids=[batch.ids[i] for i in keep],
    )


def _guarded(source: Iterator[bytes], problems: list[str]) -> Iterator[bytes]:
    """The blocks until the input breaks; the break becomes a problem, the scan still finishes."""
    try:
        yield from source
    except InputProblem as exc:
        problems.append(str(exc))


def _reported(
    source: Iterator[bytes], stream: BinaryIO, name: str, on_progress: ProgressCallback | None
) -> Iterator[bytes]:
    """The blocks, telling `on_progress` how far the raw stream has been read after each."""
    if on_progress is None:
        yield from source
        return
    size = _size(stream)
    read = 0
    try:
        for block in source:
            read += len(block)
            yield block
            on_progress(Progress(name, _position(stream, read), size, False))
    finally:
        on_progress(Progress(name, _position(stream, read), size, True))


def _size(stream: BinaryIO) -> int | None:
    try:
        return os.fstat(stream.fileno()).st_size if stream.seekable() else None
    except (OSError, ValueError):
        return None


def _position(stream: BinaryIO, fallback: int) -> int:
    try:
        return stream.tell() if stream.seekable() else fallback
    except (OSError, ValueError):
        return fallback


def _year_hint(stream: BinaryIO) -> YearHint:
    """The year a syslog time without one takes: the file's modification year (now, for stdin)."""
    try:
        modified = os.fstat(stream.fileno()).st_mtime if stream.seekable() else None
    except (OSError, ValueError):
        modified = None
    if modified is None:
        now = datetime.now(UTC)
        return YearHint(now.year, now.timestamp(), from_file=False)
    return YearHint(datetime.fromtimestamp(modified, UTC).year, modified)


def scan_inputs(
    paths: Sequence[str],
    scanner: Scanner,
    on_progress: ProgressCallback | None = None,
    parts: int | None = None,
) -> Tally:
    """Every input through the scanner: the first matches of each code, counts, timelines.

    A large plain file is read in parts on several cores (`parts`: how many; None: one
    per core the process may use, 1: one pass); anything else in one pass. Ctrl-C ends
    the reading with what was read so far (`interrupted`).
    """
    tally = Tally()
    try:
        _scan(paths, scanner, tally, on_progress, parts)
    except KeyboardInterrupt:
        tally.interrupted = True
    return tally


def _scan(
    paths: Sequence[str],
    scanner: Scanner,
    tally: Tally,
    on_progress: ProgressCallback | None,
    parts: int | None,
) -> None:
    from diagnose.triage import parts as triage_parts  # multiprocessing: only when reading

    cores = parts or triage_parts.cores()
    for path in paths:
        name = display_name(path)
        size = plain(path) if cores > 1 else None
        # density before can_fork: a sparse file never imports multiprocessing
        if (
            size is not None
            and size >= triage_parts.PART_MIN
            and _dense(path, scanner)
            and triage_parts.can_fork()
        ):
            count = max(1, min(cores, size // (triage_parts.PART_MIN // 2)))
            assumed, hint = _scan_in_parts(path, name, size, count, scanner, tally, on_progress)
        else:
            assumed, hint = _scan_whole(path, name, scanner, tally, on_progress)
        if assumed:  # stdin redirected from a file is that file: its modification year
            where = "its modification year" if hint.from_file else "the current year"
            tally.notes.append(
                f"{name}: syslog times carry no year; they were read as {hint.year} ({where})"
            )
        if tally.interrupted:
            return


def _dense(path: str, scanner: Scanner) -> bool:
    """Whether the file starts the way an incident log does: anchors on most lines (only
    then are the extra processes worth their cost; a sparse log is read at grep's pace)."""
    with open(path, "rb") as handle:
        return scanner.dense(handle.read(BLOCK_SIZE))


def _scan_whole(
    path: str, name: str, scanner: Scanner, tally: Tally, on_progress: ProgressCallback | None
) -> tuple[bool, YearHint]:
    kept: dict[str, int] = {}
    assumed = False
    hint = YearHint(0, 0.0)
    try:
        with open_raw(path) as stream:
            hint = _year_hint(stream)
            source = _reported(blocks(stream, name), stream, name, on_progress)
            for batches in scanner.batches(_guarded(source, tally.problems), hint):
                tally.add(batches, name, kept)
                assumed = assumed or any(b.year_assumed for b in batches)
    except InputProblem as exc:
        tally.problems.append(str(exc))
    return assumed, hint


def _scan_in_parts(
    path: str,
    name: str,
    size: int,
    count: int,
    scanner: Scanner,
    tally: Tally,
    on_progress: ProgressCallback | None,
) -> tuple[bool, YearHint]:
    """One plain file read in `count` parts at once; their tallies joined in order."""
    from diagnose.triage import parts as triage_parts

    with open(path, "rb") as stream:
        hint = _year_hint(stream)
    ranges = triage_parts.cut(path, size, count)
    scanner.prepare()  # compiled once here, shared by the forked parts

    def part(k: int) -> tuple[Tally, int, int, bool]:
        """Part k's tally (line numbers from its own first line; `interrupted` when it
        was stopped), its lines, whether a syslog year was assumed."""
        lo, hi = ranges[k]
        start = triage_parts.context_start(path, lo)
        first = 1 + triage_parts.newlines(path, start, lo)  # lo's line number, from start
        reading = triage_parts.Reading(path, start, lo, hi, triage_parts.report(k))
        own = Tally()
        kept: dict[str, int] = {}
        assumed = False
        for batches in scanner.batches(_guarded(iter(reading), own.problems), hint):
            end = first + reading.lines if reading.past else 1 << 62
            mine = [b for b in (_within(b, first, end) for b in batches) if b.lines]
            own.add(mine, name, kept)
            assumed = assumed or any(b.year_assumed for b in mine)
        own.interrupted = reading.stopped
        return own, reading.lines, first, assumed

    def told(done: list[int]) -> None:
        if on_progress is not None:
            on_progress(Progress(name, min(size, sum(done)), size, False))

    results, interrupted = triage_parts.run(part, len(ranges), told)
    stopped = interrupted or any(own.interrupted for own, *_ in results)
    kept: dict[str, int] = {}
    lines_before = 0
    assumed = False
    for (own, lines, first, part_assumed), (lo, _hi) in zip(results, ranges, strict=True):
        if stopped:  # a part read in part only: count the lines before this one afresh
            lines_before = triage_parts.newlines(path, 0, lo)
        tally.then(own, lines_before - (first - 1), kept)
        lines_before += lines
        assumed = assumed or part_assumed
    tally.interrupted = stopped
    if on_progress is not None and not stopped:
        on_progress(Progress(name, size, size, True))
    return assumed, hint


def explain(
    paths: Sequence[str],
    catalogue: Catalogue,
    on_progress: ProgressCallback | None = None,
    *,
    fast: bool = True,
    parts: int | None = None,
) -> Explanation:
    """Scan `paths` (`-` is stdin), correlate, and build the diagnosis root cause first.

    `on_progress` is called after each block read (about a megabyte; a few times a second
    for a file read in parts) and once at the end of each input. `fast=False` reads
    without the verdict cache (the plain path); `parts` is how many processes read a
    large plain file (None: one per core; 1: one pass).
    """
    scanner = Scanner(compile_catalogue(catalogue), fast=fast)
    tally = scan_inputs(paths, scanner, on_progress, parts if fast else 1)
    raw = tally.matches
    matches = correlation.correlate(raw, catalogue)
    renamed = {r.code: m.code for r, m in zip(raw, matches, strict=True)}
    counts: dict[str, int] = {}
    timelines: dict[str, Timeline] = {}
    for code, n in tally.counts.items():
        new = renamed.get(code, code)
        counts[new] = counts.get(new, 0) + n
        timeline = tally.timelines[code]
        if new in timelines:
            timelines[new].merge(timeline)
        else:
            timelines[new] = timeline
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
        problems=tally.problems,
        counts=counts,
        catalogue=catalogue.version,
        timelines=timelines,
        correlation=tally.correlator.summary(),
        notes=tally.notes,
        interrupted=tally.interrupted,
    )
