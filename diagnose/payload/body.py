"""Request bodies: inline or from an @file, decoded as JSON, with bounds on size and nesting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from diagnose.payload.request import Origin, ParsedRequest, PayloadSyntaxError


def read_body(
    request: ParsedRequest, data: list[tuple[str, str, Origin]], base_dir: Path | None
) -> None:
    """Set the request's body from its data options: (role, text or @file, origin) each.

    `raw` (--data-raw) never reads a file; several options are joined with `&`
    as curl does (`--json` ones with nothing).
    """
    parts: list[str] = []
    origin = data[0][2]
    for role, value, where in data:
        if role != "raw" and value.startswith("@"):
            path_text = value[1:]
            if path_text in ("-", ""):
                problem = (
                    "reads the body from standard input; put the body in a file"
                    if path_text
                    else "names no file after @"
                )
                raise PayloadSyntaxError(
                    f"{where.option} {value} {problem}", where.line, where.column
                )
            parts.append(_read_file(path_text, base_dir, where))
            origin = Origin(where.option, where.line, where.column, file=path_text)
        else:
            parts.append(value)
            origin = where
    if len(data) > 1:
        origin = data[0][2]
    separator = "" if all(role == "json" for role, _, _ in data) else "&"
    request.body_text = separator.join(parts)
    request.body_origin = origin
    what = f"the body of {origin.option}" + (f" (file {origin.file})" if origin.file else "")
    if len(data) > 1:
        what = f"the body ({len(data)} data options, joined with & as curl does)"
    try:
        request.body = decode(request.body_text, what, origin)
    except PayloadSyntaxError:
        if request.dialect != "powershell" or '\\"' not in request.body_text:
            raise
        # Windows PowerShell 5.1 needs \" inside a body to pass a quote to curl.exe
        unescaped = request.body_text.replace('\\"', '"')
        try:
            request.body = decode(unescaped, what, origin)
        except PayloadSyntaxError:
            raise PayloadSyntaxError(
                f'{what} is not valid JSON, with or without its \\" escapes',
                origin.line,
                origin.column,
            ) from None
        request.body_text = unescaped
        request.notes.append(
            f'{what} uses \\" escapes: Windows PowerShell 5.1 turns them into quotes, '
            "PowerShell 7.3 and later send them as they are (and the API rejects the body)"
        )


MAX_BODY_BYTES = 1_000_000
MAX_DEPTH = 64


def _resolve(path_text: str, base_dir: Path | None) -> Path:
    """curl reads @file relative to the working directory; the cURL file's folder is tried next."""
    path = Path(path_text).expanduser()
    if path.is_absolute() or path.exists() or base_dir is None:
        return path
    beside = base_dir / path
    return beside if beside.exists() else path


def _read_file(path_text: str, base_dir: Path | None, where: Origin) -> str:
    """The text of an @file body: a regular UTF-8 file of at most MAX_BODY_BYTES."""

    def fail(problem: str) -> PayloadSyntaxError:
        return PayloadSyntaxError(
            f"the body file {path_text!r} named by {where.option} {problem}",
            where.line,
            where.column,
        )

    try:
        path = _resolve(path_text, base_dir)
        exists, regular = path.exists(), path.is_file()
        data = b""
        if regular:
            with path.open("rb") as handle:
                data = handle.read(MAX_BODY_BYTES + 1)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise fail(f"cannot be read ({type(exc).__name__})") from None
    if not exists:
        raise fail("does not exist")
    if not regular:
        raise fail("is not a regular file")
    if len(data) > MAX_BODY_BYTES:
        raise fail(f"is larger than {MAX_BODY_BYTES} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise fail("is not UTF-8 text") from None


def _depth(value: object) -> int:
    """How deeply `value` nests (iteratively: the value may be deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
    return deepest


class _NotJson(ValueError):
    """A number Python's json cannot take: NaN, Infinity, -Infinity, 1e999, or too many digits."""

    def __init__(self, token: str, problem: str = ""):
        super().__init__(token)
        self.token = token
        self.problem = problem or (f"{token} is not a JSON number (JSON has no NaN or infinity)")


def _reject_constant(token: str) -> Any:
    raise _NotJson(token)


def _finite_float(token: str) -> float:
    value = float(token)
    if value in (float("inf"), float("-inf")):
        raise _NotJson(token)
    return value


def _bounded_int(token: str) -> int:
    """An integer, or _NotJson past Python's limit on digits (sys.get_int_max_str_digits)."""
    try:
        return int(token)
    except ValueError:
        digits = len(token.lstrip("-"))
        raise _NotJson(
            token, f"an integer of {digits} digits is longer than this tool reads"
        ) from None


def _outside_strings(text: str, token: str) -> int:
    """The offset of the first `token` in `text` outside JSON strings (0 when not found)."""
    in_string, i = False, 0
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 2
                continue
            in_string = c != '"'
        elif c == '"':
            in_string = True
        elif text.startswith(token, i):
            return i
        i += 1
    return 0


def _non_json_error(
    exc: _NotJson, text: str, what: str, offset: Origin | None
) -> PayloadSyntaxError:
    at = _outside_strings(text, exc.token)
    body_line = text.count("\n", 0, at) + 1
    body_column = at - (text.rfind("\n", 0, at) + 1) + 1
    problem = f"{what} is not valid JSON: {exc.problem}"
    if offset is None:
        return PayloadSyntaxError(problem, body_line, body_column)
    return PayloadSyntaxError(
        f"{problem} (line {body_line}, column {body_column} of the body)",
        offset.line,
        offset.column,
    )


def decode(text: str, what: str, offset: Origin | None) -> Any:
    line, column = (offset.line, offset.column) if offset else (1, 1)
    try:
        value = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except _NotJson as exc:
        raise _non_json_error(exc, text, what, offset) from None
    except json.JSONDecodeError as exc:
        if offset is None:  # a bare JSON payload: its position is the input's
            raise PayloadSyntaxError(
                f"{what} is not valid JSON: {exc.msg}", exc.lineno, exc.colno
            ) from None
        raise PayloadSyntaxError(
            f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno} "
            "of the body)",
            offset.line,
            offset.column,
        ) from None
    except RecursionError:
        raise PayloadSyntaxError(f"{what} nests too deeply to read", line, column) from None
    if _depth(value) > MAX_DEPTH:
        raise PayloadSyntaxError(f"{what} nests deeper than {MAX_DEPTH} levels", line, column)
    return value


def json_type(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
