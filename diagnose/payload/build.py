"""Write a request back as a cURL command that is safe to paste into a ticket.

Secret headers become shell variables (`$ACCESS_TOKEN`, `$env:ACCESS_TOKEN`,
`%ACCESS_TOKEN%`), never values. The body is quoted so that the shell of the
dialect (and `curl.parse_input`) reads it back unchanged (in cmd, with carets where cmd
itself would otherwise act on `^ & | < > ( )`); in cmd a `%NAME%`
inside the body would still be expanded by cmd itself (cmd has no escape for
it inside quotes).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from typing import Any

from diagnose.payload.shellwords import CONTINUATION

SECRET_VARIABLES = {"authorization": "ACCESS_TOKEN", "x-api-key": "API_KEY"}


def variable(name: str, dialect: str) -> str:
    return {"posix": f"${name}", "powershell": f"$env:{name}", "cmd": f"%{name}%"}[dialect]


def quote(value: str, dialect: str) -> str:
    """One literal argument for the dialect's shell."""
    if dialect == "posix":
        return shlex.quote(value)
    if dialect == "powershell":
        return "'" + value.replace("'", "''") + "'"
    return _cmd_escape(_crt_quote(value))


def _cmd_escape(argument: str) -> str:
    """cmd.exe: a caret before its special characters wherever its own quote state is off (every
    `"` toggles it, the C runtime's escaped ones too), so that cmd passes them on unchanged."""
    out: list[str] = []
    in_quotes = False
    for char in argument:
        if char == '"':
            in_quotes = not in_quotes
        elif not in_quotes and char in "^&|<>()":
            out.append("^")
        out.append(char)
    return "".join(out)


def _crt_quote(value: str) -> str:
    """cmd / the C runtime: always in double quotes; backslashes doubled only before a quote."""
    out: list[str] = []
    backslashes = 0
    for char in value:
        if char == "\\":
            backslashes += 1
            continue
        if char == '"':
            out.append("\\" * (2 * backslashes + 1) + '"')
        else:
            out.append("\\" * backslashes + char)
        backslashes = 0
    out.append("\\" * (2 * backslashes))
    return '"' + "".join(out) + '"'


def to_curl(
    url: str,
    payload: dict[str, Any],
    dialect: str = "posix",
    headers: Sequence[tuple[str, str]] = (),
) -> str:
    """A cURL command for `payload` to `url`. `headers` are non-secret (name, value) pairs such as
    the org and sandbox; Authorization and x-api-key are always written as variables."""
    program = "curl" if dialect == "posix" else "curl.exe"
    secret = [
        f"Authorization: Bearer {variable(SECRET_VARIABLES['authorization'], dialect)}",
        f"x-api-key: {variable(SECRET_VARIABLES['x-api-key'], dialect)}",
    ]
    plain = [f"{name}: {value}" for name, value in headers if name.lower() not in SECRET_VARIABLES]
    if not any(h.lower().startswith("content-type:") for h in plain):
        plain.append("Content-Type: application/json")
    lines = [f"{program} -X POST {quote(url, dialect)}"]
    lines += [f'-H "{h}"' for h in secret]
    lines += [f"-H {quote(h, dialect)}" for h in plain]
    lines.append(f"-d {quote(json.dumps(payload, ensure_ascii=False), dialect)}")
    return f" {CONTINUATION[dialect]}\n  ".join(lines) + "\n"
