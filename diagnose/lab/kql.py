"""The lab's one small KQL evaluator: Log Analytics and Resource Graph queries over in-memory tables.

The subset is pinned (docs/lab.md "KQL"): `where` with `==`, `!=`, `=~`, `<`, `<=`, `>`,
`>=`, `in`, `in~`, `between`, `has`, `contains`, `isnotempty()`, `and`/`or`/`not()`; `ago()`,
`now()`, `datetime()`, `bin()`, `tostring()`, `todatetime()`, `toint()`; `project`,
`extend`, `order by`/`sort by`, `take`/`limit`, `summarize count() by` with `bin()`.
Anything else is a `KqlError`, which each service answers in its own error shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from diagnose.timeline.window import parse_time

Row = dict[str, Any]
Value = Any
Expr = Callable[[Row], Value]


class KqlError(Exception):
    """A query the evaluator refuses: `kind` is syntax, semantic or unsupported."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class Table:
    """Columns (name -> KQL type) and rows (dicts; `dynamic` columns hold dicts and lists)."""

    columns: dict[str, str]
    rows: list[Row] = field(default_factory=list)


@dataclass
class Result:
    columns: list[tuple[str, str]]
    rows: list[Row]

    def cells(self) -> list[list[Value]]:
        """The rows as lists in column order (Log Analytics' `rows`), JSON-ready."""
        return [[to_json(r.get(name)) for name, _ in self.columns] for r in self.rows]

    def objects(self) -> list[dict[str, Value]]:
        """The rows as objects (Resource Graph's `objectArray`), JSON-ready."""
        return [{name: to_json(r.get(name)) for name, _ in self.columns} for r in self.rows]


def to_json(value: Value) -> Value:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if isinstance(value, timedelta):
        return str(value)
    return value


# -- tokens ---------------------------------------------------------------------------------------
_TIMESPAN_UNITS = {
    "d": 86400.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "m": 60.0,
    "min": 60.0,
    "s": 1.0,
    "sec": 1.0,
    "ms": 0.001,
}
_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<datetime>datetime\(\s*(?P<dt>[^)]*?)\s*\))
  | (?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<timespan>\d+(?:\.\d+)?(?:hrs|hr|min|sec|ms|d|h|m|s)\b)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|=~|!~|<=|>=|\.\.|[<>=|(),.\[\]+\-*/~])
    """,
    re.X,
)


@dataclass
class Token:
    kind: str
    text: str
    value: Value = None


def tokens(query: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if m is None:
            raise KqlError("syntax", f"Syntax error: unexpected {query[pos : pos + 10]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        text = m.group(0)
        if kind == "space":
            continue
        if kind == "dt":  # the inner group of datetime(...) is reported as lastgroup
            kind = "datetime"
        if kind == "datetime":
            out.append(Token("literal", text, _parse_datetime(m.group("dt"))))
        elif kind == "string":
            out.append(Token("literal", text, _unquote(text)))
        elif kind == "timespan":
            number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()  # type: ignore[union-attr]
            out.append(
                Token("literal", text, timedelta(seconds=float(number) * _TIMESPAN_UNITS[unit]))
            )
        elif kind == "number":
            out.append(Token("literal", text, float(text) if "." in text else int(text)))
        else:
            out.append(Token(kind, text))
    out.append(Token("end", ""))
    return out


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _parse_datetime(text: str) -> datetime:
    value = parse_time(text.strip().strip("'\""))
    if value is None:
        raise KqlError("syntax", f"Syntax error: {text!r} is not a datetime")
    return value


# -- values ---------------------------------------------------------------------------------------
def _text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return str(to_json(value))
    return str(value)


def _comparable(left: Value, right: Value) -> tuple[Value, Value]:
    """Datetimes against ISO texts, numbers against numeric texts (as Kusto's implicit casts)."""
    if isinstance(left, datetime) or isinstance(right, datetime):
        return parse_time(left), parse_time(right)
    if isinstance(left, int | float) and isinstance(right, str):
        return left, _number(right)
    if isinstance(right, int | float) and isinstance(left, str):
        return _number(left), right
    return left, right


def _number(value: Value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _equal(left: Value, right: Value, fold: bool = False) -> bool:
    left, right = _comparable(left, right)
    if fold and isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    return bool(left == right)


def _order(op: str, left: Value, right: Value) -> bool:
    left, right = _comparable(left, right)
    if left is None or right is None:
        return False
    try:
        return bool(
            {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
        )
    except TypeError:
        return False


def _has(left: Value, right: Value) -> bool:
    term = _text(right).lower()
    return bool(term) and term in re.split(r"[^0-9a-z_]+", _text(left).lower())


def _member(value: Value, key: Value) -> Value:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, dict):
        return value.get(key) if isinstance(key, str) else None
    if isinstance(value, list) and isinstance(key, int) and -len(value) <= key < len(value):
        return value[key]
    return None


def _bin(value: Value, size: Value) -> Value:
    if isinstance(value, datetime) and isinstance(size, timedelta) and size.total_seconds() > 0:
        step = size.total_seconds()
        return datetime.fromtimestamp(value.timestamp() // step * step, UTC)
    if isinstance(value, int | float) and isinstance(size, int | float) and size > 0:
        return value // size * size
    return None


def _to_int(value: Value) -> Value:
    number = _number(value)
    return None if number is None else int(number)


def _empty(value: Value) -> bool:
    return value is None or value == "" or value == [] or value == {}


# -- the parser -----------------------------------------------------------------------------------
_COMPARE = ("==", "!=", "=~", "!~", "<", "<=", ">", ">=")


class _Parser:
    def __init__(self, query: str, now: datetime) -> None:
        self.toks = tokens(query)
        self.pos = 0
        self.now = now
        self.columns: dict[str, str] = {}  # the columns in scope at this point of the pipe

    # token helpers
    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def take(self) -> Token:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("op", "name") and self.tok.text in texts

    def expect(self, text: str) -> None:
        if not self.at(text):
            found = self.tok.text or "the end of the query"
            raise KqlError("syntax", f"Syntax error: expected '{text}', found '{found}'")
        self.pos += 1

    def name(self) -> str:
        if self.tok.kind != "name":
            raise KqlError("syntax", f"Syntax error: expected a name, found '{self.tok.text}'")
        return self.take().text

    # expressions
    def expr(self) -> Expr:
        left = self.conjunction()
        while self.at("or"):
            self.take()
            right = self.conjunction()
            left = (lambda a, b: lambda r: bool(a(r)) or bool(b(r)))(left, right)
        return left

    def conjunction(self) -> Expr:
        left = self.comparison()
        while self.at("and"):
            self.take()
            right = self.comparison()
            left = (lambda a, b: lambda r: bool(a(r)) and bool(b(r)))(left, right)
        return left

    def comparison(self) -> Expr:
        left = self.additive()
        if self.at(*_COMPARE):
            op = self.take().text
            right = self.additive()
            return _compare(op, left, right)
        if self.at("in"):
            self.take()
            fold = self.at("~")  # in~: case-insensitive membership
            if fold:
                self.take()
            values = self.arguments()
            return lambda r: any(_equal(left(r), v(r), fold=fold) for v in values)
        if self.at("between"):
            self.take()
            self.expect("(")
            low = self.additive()
            self.expect("..")
            high = self.additive()
            self.expect(")")
            return lambda r: _order(">=", left(r), low(r)) and _order("<=", left(r), high(r))
        if self.at("has"):
            self.take()
            right = self.additive()
            return lambda r: _has(left(r), right(r))
        if self.at("contains"):
            self.take()
            right = self.additive()
            return lambda r: _text(right(r)).lower() in _text(left(r)).lower()
        return left

    def additive(self) -> Expr:
        left = self.postfix()
        while self.at("+", "-"):
            op = self.take().text
            right = self.postfix()
            left = _arith(op, left, right)
        return left

    def postfix(self) -> Expr:
        value = self.primary()
        while self.at(".", "["):
            if self.take().text == ".":
                key: Expr = (lambda k: lambda r: k)(self.name())
            else:
                key = self.expr()
                self.expect("]")
            value = (lambda v, k: lambda r: _member(v(r), k(r)))(value, key)
        return value

    def primary(self) -> Expr:
        tok = self.tok
        if tok.kind == "literal":
            self.take()
            return lambda r: tok.value
        if self.at("("):
            self.take()
            inner = self.expr()
            self.expect(")")
            return inner
        if self.at("-"):
            self.take()
            inner = self.postfix()
            return lambda r: _negate(inner(r))
        if tok.kind != "name":
            raise KqlError("syntax", f"Syntax error: unexpected '{tok.text or 'end of query'}'")
        name = self.take().text
        if self.at("("):
            return self.function(name)
        if name in ("true", "false"):
            return lambda r: name == "true"
        if name not in self.columns:
            raise KqlError("semantic", f"Failed to resolve scalar expression named '{name}'")
        return lambda r: r.get(name)

    def arguments(self) -> list[Expr]:
        self.expect("(")
        args: list[Expr] = []
        while not self.at(")"):
            args.append(self.expr())
            if not self.at(")"):
                self.expect(",")
        self.expect(")")
        return args

    def function(self, name: str) -> Expr:
        args = self.arguments()
        now = self.now
        simple: dict[str, tuple[int, Callable[..., Value]]] = {
            "ago": (1, lambda span: now - span if isinstance(span, timedelta) else None),
            "now": (0, lambda: now),
            "bin": (2, _bin),
            "not": (1, lambda v: not v),
            "isnotempty": (1, lambda v: not _empty(v)),
            "isempty": (1, _empty),
            "tostring": (1, _text),
            "todatetime": (1, parse_time),
            "toint": (1, _to_int),
            "tolong": (1, _to_int),
        }
        if name not in simple:
            raise KqlError("unsupported", f"the function '{name}()'")
        arity, fn = simple[name]
        if len(args) != arity:
            raise KqlError(
                "semantic", f"function '{name}' expects {arity} argument(s), got {len(args)}"
            )
        return lambda r: fn(*(a(r) for a in args))


def _compare(op: str, left: Expr, right: Expr) -> Expr:
    if op == "==":
        return lambda r: _equal(left(r), right(r))
    if op == "!=":
        return lambda r: not _equal(left(r), right(r))
    if op == "=~":
        return lambda r: _equal(left(r), right(r), fold=True)
    if op == "!~":
        return lambda r: not _equal(left(r), right(r), fold=True)
    return lambda r: _order(op, left(r), right(r))


def _arith(op: str, left: Expr, right: Expr) -> Expr:
    def apply(row: Row) -> Value:
        a, b = left(row), right(row)
        try:
            return a + b if op == "+" else a - b
        except TypeError:
            return None

    return apply


def _negate(value: Value) -> Value:
    return -value if isinstance(value, int | float | timedelta) else None


# -- the pipeline ---------------------------------------------------------------------------------
def _auto_name(text: str) -> str:
    """Kusto's name for an unnamed projected expression (`a.b` -> `a_b`)."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or "Column1"


def _type_of(values: list[Value], known: str | None) -> str:
    if known:
        return known
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, int):
            return "long"
        if isinstance(v, float):
            return "real"
        if isinstance(v, datetime):
            return "datetime"
        if isinstance(v, timedelta):
            return "timespan"
        if isinstance(v, dict | list):
            return "dynamic"
        return "string"
    return "string"


def run(
    query: str,
    tables: Mapping[str, Table],
    now: datetime,
    *,
    fold_table_names: bool = False,
) -> Result:
    """Evaluate `query` over `tables`; `fold_table_names` for Resource Graph (case-insensitive)."""
    p = _Parser(query, now)
    source = p.name()
    lookup = {k.lower(): k for k in tables} if fold_table_names else {k: k for k in tables}
    key = lookup.get(source.lower() if fold_table_names else source)
    if key is None:
        raise KqlError("semantic", f"Failed to resolve table or column expression named '{source}'")
    table = tables[key]
    p.columns = dict(table.columns)
    rows: list[Row] = [dict(r) for r in table.rows]
    while p.at("|"):
        p.take()
        operator = p.name()
        while p.at("-") and p.toks[p.pos + 1].kind == "name":  # mv-expand, project-away, ...
            p.take()
            operator += "-" + p.take().text
        rows = _operator(p, operator, rows)
    if p.tok.kind != "end":
        raise KqlError("syntax", f"Syntax error: unexpected '{p.tok.text}'")
    columns = [
        (name, _type_of([r.get(name) for r in rows], kind or None))
        for name, kind in p.columns.items()
    ]
    return Result(columns, rows)


def _operator(p: _Parser, operator: str, rows: list[Row]) -> list[Row]:
    if operator in ("where", "filter"):
        predicate = p.expr()
        return [r for r in rows if predicate(r) is True]
    if operator in ("take", "limit"):
        count = p.take()
        if count.kind != "literal" or not isinstance(count.value, int):
            raise KqlError("syntax", f"Syntax error: '{operator}' needs a whole number")
        return rows[: count.value]
    if operator in ("project", "extend"):
        return _project(p, rows, extend=operator == "extend")
    if operator in ("order", "sort"):
        p.expect("by")
        return _order_by(p, rows)
    if operator == "summarize":
        return _summarize(p, rows)
    raise KqlError("unsupported", f"the '{operator}' operator")


def _assignments(p: _Parser) -> list[tuple[str, Expr, str | None]]:
    """`name = expr` or `expr` items separated by commas: (name, expression, known column type)."""
    items: list[tuple[str, Expr, str | None]] = []
    while True:
        start = p.pos
        if p.tok.kind == "name" and p.toks[p.pos + 1].text == "=":
            name = p.take().text
            p.take()
            items.append((name, p.expr(), None))
        else:
            expr = p.expr()
            text = "".join(t.text for t in p.toks[start : p.pos])
            items.append((_auto_name(text), expr, p.columns.get(text)))
        if not p.at(","):
            return items
        p.take()


def _project(p: _Parser, rows: list[Row], *, extend: bool) -> list[Row]:
    items = _assignments(p)
    out = []
    for r in rows:
        new = dict(r) if extend else {}
        for name, expr, _ in items:
            new[name] = expr(r)
        out.append(new)
    columns = dict(p.columns) if extend else {}
    for name, _, known in items:
        columns[name] = known or ""
    p.columns = columns
    return out


def _order_by(p: _Parser, rows: list[Row]) -> list[Row]:
    keys: list[tuple[Expr, bool]] = []
    while True:
        expr = p.expr()
        descending = True  # Kusto's default
        if p.at("asc", "desc"):
            descending = p.take().text == "desc"
        keys.append((expr, descending))
        if not p.at(","):
            break
        p.take()
    out = list(rows)
    for expr, descending in reversed(keys):
        present = [r for r in out if expr(r) is not None]
        absent = [r for r in out if expr(r) is None]
        present.sort(key=lambda r, e=expr: _sort_key(e(r)), reverse=descending)  # type: ignore[misc]
        out = present + absent
    return out


def _sort_key(value: Value) -> tuple[int, Value]:
    if isinstance(value, datetime):
        return (0, value.timestamp())
    if isinstance(value, bool | int | float):
        return (1, float(value))
    return (2, _text(value))


def _summarize(p: _Parser, rows: list[Row]) -> list[Row]:
    name = "count_"
    if p.tok.kind == "name" and p.toks[p.pos + 1].text == "=":
        name = p.take().text
        p.take()
    if not p.at("count"):
        raise KqlError("unsupported", f"the aggregation '{p.tok.text}' (only count() is)")
    p.take()
    p.expect("(")
    p.expect(")")
    keys: list[tuple[str, Expr, str | None]] = []
    if p.at("by"):
        p.take()
        keys = _by_keys(p)
    groups: dict[tuple[str, ...], Row] = {}
    for r in rows:
        values = {k: expr(r) for k, expr, _ in keys}
        ident = tuple(_text(v) for v in values.values())
        group = groups.setdefault(ident, {**values, name: 0})
        group[name] += 1
    p.columns = {k: known or "" for k, _, known in keys} | {name: "long"}
    return list(groups.values())


def _by_keys(p: _Parser) -> list[tuple[str, Expr, str | None]]:
    """`by` items: `col`, `name = expr`, or `bin(col, span)` (named after the column)."""
    keys: list[tuple[str, Expr, str | None]] = []
    for name, expr, known in _assignments(p):
        match = re.fullmatch(r"bin_(\w+?)_\w+", name)
        if match and match.group(1) in p.columns:
            name, known = match.group(1), p.columns[match.group(1)]
        keys.append((name, expr, known))
    return keys
