"""Signatures: how the catalogue says "this evidence means that cause".

A cause in `runbooks/*.md` lists `signatures:`. Each signature is a mapping of
conditions; **all** of them must hold inside one *record* of evidence (a log
line with its continuation lines, one JSON-lines entry, one pasted HTTP
message, one paragraph; see `records.py`). Conditions:

  status: 403              an HTTP status *as a status*: `HTTP/1.1 403`, `"status": 403`,
                           `statusCode=403`, `Forbidden (403)`, `403 Forbidden`
  substatus: 4000          a Cosmos DB sub-status (`x-ms-substatus: 4000`, `"substatus":4000`,
                           `Substatus: 4000`, `SubStatusCode=4000`); a list means any of them
  aadsts: 7000112          an Entra ID code: `AADSTS7000112` or `"error_codes":[7000112]`
  code: ForbiddenByRbac    an error code as a whole word (Key Vault innererror, Graph error code)
  error_code: "401013"     the value of an `error_code`/`errorCode`/`code`/`error` field
  cmk_status: 4002         a `customerManagedKeyStatus`-style revoked text ending with `(4002)`
  text: "..."              a substring (or a list: all of them); case, accents, apostrophes
                           (’ ' ʼ), whitespace, line wraps and JSON escapes do not matter
  any_text: [...]          at least one of these substrings
  regex: "..."             a Python regular expression searched in the normalised record
                           (JSON escapes undone, lower case, accents removed, one space)
  min_seconds: 60          with `regex`: its named group `n` (unit in group `unit`: ms, s, min;
                           seconds when absent) must be at least this many seconds
  unless: "cosmos.revoked."  dropped when a signature of another cause whose code starts with
                           this prefix (or any of a list of prefixes) matched the same record
  anchors: [...]           ASCII literals (case-insensitive) for the fast prefilter; derived
                           from the other conditions when absent (required with `regex` alone)

`inner_code` is accepted as another name for `code`. A newcomer adds a
signature by editing a runbook's front matter; `tests/test_catalogue.py` then
asks for a sample text that exercises it.

Ids are not evidence: before any condition sees a record, each id in it (a UUID,
or a bare run of 32 or 16 hex digits: `masking.ID_PATTERNS`) is replaced by a run of
one placeholder letter of the same length (an id written in the catalogue itself
stays). The scanner caches verdicts per *shape* of record
(`verdicts.py`, `masking.py`): digits a condition cannot tell apart are masked in
the cache key. A condition that compares a number it captures (`min_seconds`), a
needle holding a digit, or a regex the analysis cannot read makes its signature
*opaque*: a record holding one of its anchors is then matched on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from diagnose.catalogue import Catalogue, CatalogueError
from diagnose.model import Severity
from diagnose.triage.normalise import flat, squeeze

_KNOWN_KEYS = frozenset(
    {
        "status",
        "substatus",
        "aadsts",
        "code",
        "inner_code",
        "error_code",
        "cmk_status",
        "text",
        "any_text",
        "regex",
        "min_seconds",
        "unless",
        "anchors",
    }
)
_SUBSTATUS_ANCHORS = ("substatus", "sub-status", "sub_status", "sub status")
_CHEAP = frozenset({"text", "any_text", "code", "inner_code"})
_CMK_ANCHORS = ("revoked", "customermanagedkey", "customer managed key", "revoque")
_ASCII_RUN = re.compile(r"[a-z0-9_./:() -]+")


@dataclass(frozen=True)
class Record:
    """One record's normalised text, computed once and shared by every signature."""

    flat: str
    squeezed: str

    @classmethod
    def of(cls, text: str) -> Record:
        f = flat(text)
        return cls(f, f.replace(" ", ""))


class Condition:
    """One condition of a signature: true or false of a record.

    Conditions are small objects rather than closures so that the scanner's masking
    (`masking.py`) can read what each one looks at: its regular expressions
    (`patterns`), its literal needles (`needles`), and whether it compares a
    captured number (`reads_numbers`).
    """

    patterns: tuple[re.Pattern[str], ...] = ()
    needles: tuple[str, ...] = ()
    reads_numbers = False

    def __call__(self, record: Record) -> bool:
        raise NotImplementedError


class Search(Condition):
    """A regex search in the flat text, skipped when the literal `guard` is absent."""

    def __init__(self, pattern: str, guard: str = "") -> None:
        self.pattern = re.compile(pattern)
        self.patterns = (self.pattern,)
        self.guard = guard

    def __call__(self, record: Record) -> bool:
        if self.guard and self.guard not in record.flat:
            return False
        return self.pattern.search(record.flat) is not None


class AtLeast(Condition):
    """A regex whose group `n` (unit in group `unit`) must reach `floor` seconds."""

    reads_numbers = True

    def __init__(self, pattern: str, floor: float) -> None:
        self.pattern = re.compile(pattern)
        self.patterns = (self.pattern,)
        self.floor = floor

    def __call__(self, record: Record) -> bool:
        return any(_seconds(m) >= self.floor for m in self.pattern.finditer(record.flat))


class Contains(Condition):
    """Needles in the squeezed text: all of them, or (`any_`) at least one."""

    def __init__(self, needles: list[str], any_: bool = False) -> None:
        self.needles = tuple(needles)
        self.any_ = any_

    def __call__(self, record: Record) -> bool:
        test = any if self.any_ else all
        return test(n in record.squeezed for n in self.needles)


@dataclass(frozen=True)
class Signature:
    code: str
    runbook: str
    step: int | None
    severity: Severity
    index: int  # position in the cause's `signatures:` list
    anchors: tuple[str, ...]  # lower-case ASCII literals
    conditions: tuple[Condition, ...]
    unless: tuple[str, ...] = ()  # code prefixes that take precedence in the same record
    needs: tuple[str, ...] = ()  # literals the raw lower-case record must hold (a cheap reject)

    def yields_to(self, code: str) -> bool:
        return code != self.code and any(code.startswith(p) for p in self.unless)

    def matches(self, record: Record) -> bool:
        return all(condition(record) for condition in self.conditions)


def _status(value: Any) -> Condition:
    n = int(value)
    reason = r"(?:forbidden|unauthorized|internal server error|bad request|not found|request timeout|service unavailable)"
    return Search(
        rf"(?:http/\d(?:\.\d)?\s*{n}\b"
        rf"|(?<!sub)(?<!sub-)(?<!sub_)status(?:[ _-]?code)?[^\w\n]{{0,4}}{n}\b"
        rf"|(?:returned|answered|response|responded|http|error|failed with)[ :]{{1,3}}{n}\b(?!\s*(?:ms|milliseconds?|s\b|seconds?))"
        rf"|\({n}\)|\b{n} {reason})",
        guard=str(n),
    )


def _substatus(value: Any) -> Condition:
    values = value if isinstance(value, list) else [value]
    alternatives = "|".join(str(int(v)) for v in values)
    return Search(
        rf"sub[ _-]?status(?:[ _-]?code)?[^\w\n]{{0,4}}(?:{alternatives})\b", guard="status"
    )


def _aadsts(value: Any) -> Condition:
    n = int(value)
    return Search(rf"aadsts{n}\b|error_codes[^\w\n]{{0,4}}\[[^\]]*\b{n}\b", guard=str(n))


def _code(value: Any) -> Condition:
    word = re.escape(flat(str(value)))
    return Search(rf"(?<![a-z0-9_]){word}(?![a-z0-9_])")


def _error_code(value: Any) -> Condition:
    v = re.escape(flat(str(value)))
    return Search(rf"(?:error[_ ]?code|\bcode|\berror)[^\w\n]{{0,4}}{v}(?![a-z0-9_])")


def _cmk_status(value: Any) -> Condition:
    n = int(value)
    return Search(
        rf"(?:revoked|revoque|customer ?managed ?key|customermanagedkeystatus)[^()]{{0,1500}}\({n}\)"
    )


def _text(value: Any) -> Condition:
    return Contains([squeeze(str(v)) for v in (value if isinstance(value, list) else [value])])


def _any_text(value: Any) -> Condition:
    return Contains([squeeze(str(v)) for v in value], any_=True)


def _seconds(match: re.Match[str]) -> float:
    unit = (match.groupdict().get("unit") or "s").strip().lower()
    factor = 0.001 if unit.startswith(("ms", "milli")) else 60.0 if unit.startswith("min") else 1.0
    return float(match.group("n")) * factor


def _regex(value: Any, min_seconds: Any = None) -> Condition:
    if min_seconds is None:
        return Search(str(value))
    return AtLeast(str(value), float(min_seconds))


def _phrase_anchors(text: str) -> list[str]:
    """The first and last three words of the text's longest ASCII run (two chances across a wrap).

    Runs stop at non-ASCII letters and apostrophes, whose bytes differ between encodings.
    """
    runs: list[list[str]] = [r.split() for r in _ASCII_RUN.findall(text.lower())]
    words = max(runs, key=lambda r: len(" ".join(r)), default=[])
    return list(dict.fromkeys([" ".join(words[:3]), " ".join(words[-3:])]))


def _derive_anchors(spec: dict[str, Any]) -> list[str]:
    """Anchors of the most selective condition (all must hold, so one condition's anchors do)."""
    if "aadsts" in spec:
        return [f"aadsts{int(spec['aadsts'])}", str(int(spec["aadsts"]))]
    for key in ("code", "inner_code", "error_code"):
        if key in spec:
            return [flat(str(spec[key]))]
    if "cmk_status" in spec:
        return list(_CMK_ANCHORS)
    if "text" in spec:
        texts = spec["text"] if isinstance(spec["text"], list) else [spec["text"]]
        return _phrase_anchors(str(texts[0]))
    if "any_text" in spec:
        return [_phrase_anchors(str(t))[0] for t in spec["any_text"]]
    if "substatus" in spec:
        return list(_SUBSTATUS_ANCHORS)
    return []


def compile_signature(spec: dict[str, Any], where: str) -> tuple[list[str], list[Condition]]:
    """The anchors and conditions of one signature mapping (`where` names it in errors)."""
    if not isinstance(spec, dict) or not spec:
        raise CatalogueError(f"{where}: a signature must be a non-empty mapping")
    unknown = set(spec) - _KNOWN_KEYS
    if unknown:
        raise CatalogueError(f"{where}: unknown signature keys {sorted(unknown)}")
    builders: dict[str, Callable[[Any], Condition]] = {
        "status": _status,
        "substatus": _substatus,
        "aadsts": _aadsts,
        "code": _code,
        "inner_code": _code,
        "error_code": _error_code,
        "cmk_status": _cmk_status,
        "text": _text,
        "any_text": _any_text,
    }
    try:
        # cheap substring conditions first: a record usually fails there
        keys = sorted((k for k in spec if k in builders), key=lambda k: k not in _CHEAP)
        conditions = [builders[k](spec[k]) for k in keys]
        if "regex" in spec:
            conditions.append(_regex(spec["regex"], spec.get("min_seconds")))
    except (TypeError, ValueError, re.error) as exc:
        raise CatalogueError(f"{where}: invalid signature {spec!r}: {exc}") from None
    if not conditions:
        raise CatalogueError(f"{where}: signature {spec!r} has no condition")
    anchors = [str(a).lower() for a in spec.get("anchors") or _derive_anchors(spec)]
    if not anchors or not all(a.isascii() and len(a) >= 3 for a in anchors):
        raise CatalogueError(
            f"{where}: signature {spec!r} needs `anchors:` (ASCII literals of 3+ characters)"
        )
    return anchors, conditions


def _needs(spec: dict[str, Any]) -> tuple[str, ...]:
    """Literals every matching record holds verbatim (numbers and code words survive any framing)."""
    needs = [str(int(spec[k])) for k in ("status", "aadsts", "cmk_status") if k in spec]
    if "substatus" in spec and not isinstance(spec["substatus"], list):
        needs.append(str(int(spec["substatus"])))
    needs += [str(spec[k]).lower() for k in ("code", "inner_code", "error_code") if k in spec]
    return tuple(n for n in needs if n.isascii())


def _prefixes(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def compile_catalogue(catalogue: Catalogue) -> list[Signature]:
    """Every signature of the catalogue, compiled, in catalogue order."""
    compiled: list[Signature] = []
    for cause in catalogue.causes.values():
        for index, spec in enumerate(cause.signatures):
            where = f"{cause.runbook}.md: cause {cause.code}, signature {index + 1}"
            anchors, conditions = compile_signature(spec, where)
            compiled.append(
                Signature(
                    code=cause.code,
                    runbook=cause.runbook,
                    step=cause.step,
                    severity=cause.severity,
                    index=index,
                    anchors=tuple(dict.fromkeys(anchors)),
                    conditions=tuple(conditions),
                    unless=_prefixes(spec.get("unless")),
                    needs=_needs(spec),
                )
            )
    return compiled


def all_anchors(signatures: Iterable[Signature]) -> list[str]:
    """The distinct anchors of these signatures, for the prefilter."""
    return list(dict.fromkeys(a for s in signatures for a in s.anchors))
