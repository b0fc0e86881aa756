"""Which parts of a record the verdict cache may mask without changing any verdict.

Incident logs repeat one record with new ids, times and numbers. The scanner keys
its verdict cache (`verdicts.py`) on the record with those parts masked, so the
signatures run once per *shape* of record, not once per record. A key may only
merge records whose verdicts are equal; this module says what that allows:

- **Ids.** UUIDs and bare 32- or 16-hex runs (trace and span ids, `ID_PATTERNS`) are
  replaced, in every path, by a run of
  one placeholder letter of the same length before the signatures see the record
  (`canonical`): an id is never evidence, and the signatures are documented to see
  it so. The placeholder is a letter no anchor, need or regular expression holds
  (so an id can make neither an anchor nor a protected number's context), and ids
  written in the catalogue itself (a well-known application id) are left alone.
- **Digits.** In the key every ASCII digit becomes one byte (0xFF), except the
  digits of *protected* occurrences, which stay. The protected patterns are read
  from the catalogue: every anchor or need holding a digit, and every run of
  digit-only regex nodes that tells digits apart (`403`, `40[2-9]\\d`,
  `msg-\\d{6}-4\\d\\d`, with the literal context before it). Any condition that
  tells digits apart in a way this analysis cannot follow (a captured number
  compared with `min_seconds`, a needle holding a digit, a back-reference) makes
  its signature *opaque*: a record holding one of its anchors is keyed exactly.
- **Where masking does not apply.** A record that is not ASCII, or holds a `\\u`
  escape (whose hex digits the normaliser turns into a character), is keyed
  exactly: digits could change meaning through normalisation there.

Why this is exact: two ASCII records with the same key have the same bytes except
digits that no protected pattern covers, at the same places; a condition sees the
normalised text, where those digits are still digits at corresponding places, and
every regex node that can match them matches all ten digits alike (that is what
the analysis checks), so each condition, anchor and need answers the same for
both. `tests/triage/test_fastpath.py` also checks it on random logs.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from diagnose.triage.signatures import Condition, Contains, Signature

_parser: Any = importlib.import_module("re._parser")  # the standard library's regex parser
_c: Any = importlib.import_module("re._constants")

# Ids: a UUID, and a bare run of 32 or 16 hex digits between word boundaries (W3C trace
# context's trace-id and parent-id, `traceparent: 00-<32>-<16>-01`; Application Insights'
# `operation_Id`; an ActivityId written without its hyphens). A run of those lengths that
# is all digits is one too (a 16-hex span id is all digits once in about 1,850): every
# code a signature tells apart is a whole word of at most seven digits, never inside one.
UUID = rb"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
HEX32 = rb"\b[0-9a-fA-F]{32}\b"
HEX16 = rb"\b[0-9a-fA-F]{16}\b"
ID_PATTERNS = (UUID, HEX32, HEX16)
ID_LENGTHS = (36, 32, 16)  # of what each id pattern matches
# ids in the catalogue's texts (lower case; a needle's words are run together)
_ID_TEXT = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?<![0-9a-f])(?:[0-9a-f]{32}|[0-9a-f]{16})(?![0-9a-f])"
)
_PLACEHOLDERS = "jqxzkwvy"

DIGITS_MASKED = bytes.maketrans(b"0123456789", b"\xff" * 10)

_DIGITS = frozenset(b"0123456789")
_ALL = frozenset(range(128))
_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_SPACE = frozenset(b" \t\n\r\f\v")
# Characters that the normaliser never makes out of something else, nor removes next to
# others (it turns escapes into quotes, slashes and spaces, and collapses spaces): a
# protected pattern may take them as context before its digits.
_CONTEXT = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-_.:=#@")
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


class Opaque(Exception):
    """A pattern tells digits apart in a way the analysis cannot follow."""


class Plan(NamedTuple):
    """What the verdict cache may mask for one catalogue."""

    protected: tuple[str, ...]  # byte regexes (ASCII, case-insensitive) whose digits stay
    opaque_anchors: tuple[str, ...]  # anchors of signatures keyed exactly when present
    placeholder: bytes  # the letter ids are replaced with
    catalogue_ids: frozenset[bytes]  # ids written in the catalogue: never replaced
    opaque_signatures: tuple[str, ...]  # "code #index", for tests and the docs


def _category(cat: Any) -> frozenset[int]:
    name = str(cat).replace("UNI_", "").replace("LOC_", "")
    table = {
        "CATEGORY_DIGIT": _DIGITS,
        "CATEGORY_NOT_DIGIT": _ALL - _DIGITS,
        "CATEGORY_WORD": _WORD,
        "CATEGORY_NOT_WORD": _ALL - _WORD,
        "CATEGORY_SPACE": _SPACE,
        "CATEGORY_NOT_SPACE": _ALL - _SPACE,
        "CATEGORY_LINEBREAK": frozenset(b"\n"),
        "CATEGORY_NOT_LINEBREAK": _ALL - frozenset(b"\n"),
    }
    if name not in table:
        raise Opaque(f"category {name}")
    return table[name]


def _charset(op: str, av: Any) -> frozenset[int] | None:
    """The ASCII characters one single-character node matches; None when it is not one."""
    if op == "LITERAL":
        return frozenset({av}) if av < 128 else frozenset()
    if op == "NOT_LITERAL":
        return _ALL - {av}
    if op == "ANY":
        return _ALL - frozenset(b"\n")
    if op != "IN":
        return None
    chars: set[int] = set()
    negate = False
    for item_op, item_av in av:
        kind = str(item_op)
        if kind == "NEGATE":
            negate = True
        elif kind == "LITERAL":
            chars.add(item_av)
        elif kind == "RANGE":
            chars.update(range(item_av[0], min(item_av[1], 127) + 1))
        elif kind == "CATEGORY":
            chars.update(_category(item_av))
        else:
            raise Opaque(f"set item {kind}")
    found = frozenset(c for c in chars if c < 128)
    return _ALL - found if negate else found


def _unit(node: tuple[Any, Any]) -> tuple[frozenset[int], int, int] | None:
    """(characters, min, max) of a single-character node or a repeat of one; else None."""
    op, av = str(node[0]), node[1]
    chars = _charset(op, av)
    if chars is not None:
        return chars, 1, 1
    if op in _REPEATS and len(av[2]) == 1:
        inner = _charset(str(av[2][0][0]), av[2][0][1])
        if inner is not None:
            return inner, av[0], av[1]
    return None


def _class_text(chars: frozenset[int]) -> str:
    digits = sorted(chars & _DIGITS)
    if len(digits) == 10:
        return "[0-9]"
    if len(digits) == 1:
        return chr(digits[0])
    return "[" + "".join(chr(d) for d in digits) + "]"


def _repeat_text(lo: int, hi: int) -> str:
    if (lo, hi) == (1, 1):
        return ""
    return f"{{{lo},}}" if hi >= _c.MAXREPEAT else f"{{{lo},{hi}}}"


def _digits_text(node: tuple[Any, Any]) -> tuple[str, bool] | None:
    """(regex text, tells digits apart) of a node that only ever matches digits; else None."""
    unit = _unit(node)
    if unit is not None:
        chars, lo, hi = unit
        if not chars or not chars <= _DIGITS:
            return None
        return _class_text(chars) + _repeat_text(lo, hi), chars != _DIGITS
    op, av = str(node[0]), node[1]
    if op == "SUBPATTERN":
        inner = _sequence_digits(av[3])
        return None if inner is None else (f"(?:{inner[0]})", inner[1])
    if op == "BRANCH":
        parts = [_sequence_digits(alternative) for alternative in av[1]]
        if any(p is None for p in parts):
            return None
        texts = [p[0] for p in parts if p is not None]
        return "(?:" + "|".join(texts) + ")", any(p[1] for p in parts if p is not None)
    if op in _REPEATS:
        inner = _sequence_digits(av[2])
        if inner is None:
            return None
        return f"(?:{inner[0]})" + _repeat_text(av[0], av[1]), inner[1]
    return None


def _sequence_digits(nodes: Sequence[tuple[Any, Any]]) -> tuple[str, bool] | None:
    parts = [_digits_text(node) for node in nodes]
    if any(p is None for p in parts):
        return None
    return "".join(p[0] for p in parts if p), any(p[1] for p in parts if p)


def _context(nodes: Sequence[tuple[Any, Any]], end: int) -> str:
    """The literal context right before nodes[end]: safe literals and digit-only repeats."""
    parts: list[str] = []
    for node in reversed(nodes[:end]):
        unit = _unit(node)
        if unit is None:
            break
        chars, lo, hi = unit
        if len(chars) == 1 and (lo, hi) == (1, 1):
            (char,) = chars
            if char not in _CONTEXT:
                break
            parts.append(re.escape(chr(char)))
        elif chars == _DIGITS:
            parts.append("[0-9]" + _repeat_text(lo, hi))
        else:
            break
    return "".join(reversed(parts))


def _walk(nodes: Sequence[tuple[Any, Any]], out: list[tuple[str, str]]) -> None:
    """Add to `out` the protected patterns of a node sequence; Opaque when it cannot be read.

    A *segment* is a run of nodes that only match digits; when one of them tells digits
    apart, the segment (with the literal context before it) is protected. Any other node
    that can match a digit must match all ten alike.
    """
    i = 0
    while i < len(nodes):
        if _digits_text(nodes[i]) is not None:
            j = i
            texts: list[str] = []
            sensitive = False
            while j < len(nodes) and (part := _digits_text(nodes[j])) is not None:
                texts.append(part[0])
                sensitive = sensitive or part[1]
                j += 1
            if sensitive:
                out.append((_context(nodes, i), "".join(texts)))
            i = j
            continue
        unit = _unit(nodes[i])
        if unit is not None:
            touched = unit[0] & _DIGITS
            if touched and touched != _DIGITS:
                raise Opaque("a character set that holds some digits and other characters")
        else:
            _walk_composite(nodes[i], out)
        i += 1


def _walk_composite(node: tuple[Any, Any], out: list[tuple[str, str]]) -> None:
    op, av = str(node[0]), node[1]
    if op == "AT":
        return
    if op == "SUBPATTERN":
        _walk(av[3], out)
    elif op == "ATOMIC_GROUP":
        _walk(av, out)
    elif op in _REPEATS:
        _walk(av[2], out)
    elif op == "BRANCH":
        for alternative in av[1]:
            _walk(alternative, out)
    elif op in ("ASSERT", "ASSERT_NOT"):
        _walk(av[1], out)
    else:  # back-references, conditional groups, anything newer
        raise Opaque(f"regex node {op}")


def _pieces(pattern: str) -> list[tuple[str, str]]:
    """(literal context, digit segment) of every segment of `pattern` that tells digits apart."""
    out: list[tuple[str, str]] = []
    _walk(list(_parser.parse(pattern)), out)
    return list(dict.fromkeys(out))


def protected_patterns(pattern: str) -> list[str]:
    """The byte-regex sources whose occurrences hold every digit `pattern` tells apart."""
    return [context + segment for context, segment in _pieces(pattern)]


def _condition_patterns(condition: Condition) -> list[tuple[str, str]]:
    if condition.reads_numbers:
        raise Opaque("compares a captured number")
    if isinstance(condition, Contains) and any(c.isdigit() for n in condition.needles for c in n):
        raise Opaque("a needle holds a digit (needles match across spaces)")
    return [p for compiled in condition.patterns for p in _pieces(compiled.pattern)]


def _literal_patterns(literals: Iterable[str]) -> list[tuple[str, str]]:
    return [("", re.escape(lit)) for lit in literals if any(c.isdigit() for c in lit)]


def _texts(signature: Signature) -> list[str]:
    """Every literal and pattern text of a signature (for the placeholder and the ids)."""
    texts = [*signature.anchors, *signature.needs]
    for condition in signature.conditions:
        texts += [p.pattern for p in condition.patterns]
        texts += list(condition.needles)
    return texts


def plan(signatures: Sequence[Signature]) -> Plan:
    """What may be masked for these signatures."""
    pieces: list[tuple[str, str]] = []
    opaque_anchors: list[str] = []
    opaque: list[str] = []
    for sig in signatures:
        try:
            mine = [p for c in sig.conditions for p in _condition_patterns(c)]
        except Opaque:
            opaque_anchors += sig.anchors
            opaque.append(f"{sig.code} #{sig.index}")
            continue
        pieces += mine + _literal_patterns([*sig.anchors, *sig.needs])
    # A segment protected on its own covers the same segment with a context before it.
    bare = {segment for context, segment in pieces if not context}
    protected = list(dict.fromkeys(c + s for c, s in pieces if not c or s not in bare))
    placeholder, ids = placeholder_and_ids(signatures)
    return Plan(
        protected=tuple(protected),
        opaque_anchors=tuple(dict.fromkeys(opaque_anchors)),
        placeholder=placeholder,
        catalogue_ids=ids,
        opaque_signatures=tuple(opaque),
    )


def placeholder_and_ids(signatures: Sequence[Signature]) -> tuple[bytes, frozenset[bytes]]:
    """The letter ids are replaced with, and the ids the catalogue itself writes.

    The letter is one that no anchor, need or regular expression of the catalogue holds
    (so a replaced id can make neither an anchor nor a protected number's context); b""
    when every candidate is taken (ids are then left as they are). Cheap: no analysis.
    """
    written = " ".join(t for s in signatures for t in _texts(s)).lower()
    regexes = " ".join(p.pattern for s in signatures for c in s.conditions for p in c.patterns)
    taken = (" ".join(a for s in signatures for a in (*s.anchors, *s.needs)) + regexes).lower()
    letter = next((c for c in _PLACEHOLDERS if c not in taken), "")
    ids = frozenset(m.group().encode() for m in _ID_TEXT.finditer(written))
    return letter.encode(), ids


def re_literal(literal: str) -> bytes:
    """A byte regex matching `literal` (ASCII) as it is."""
    return re.escape(literal).encode()
