"""Read a cURL command as people paste it (or a bare JSON payload) into a ParsedRequest.

Words come from `tokens`, bodies from `body`; this module knows curl's options.

`parse_input(text)` is the entry point. It understands the options a campaign's
cURL request uses (`-X/--request`, `-H/--header`, `-d/--data`, `--data-raw`,
`--data-binary`, `--data-ascii`, `--json`, `@file` bodies, `--url`,
`--oauth2-bearer`), skips the ones that do not change the request (`-s`, `-v`,
`-o FILE`, ...) and notes anything it ignored. Problems that make the text
unusable raise `PayloadSyntaxError` with the line and column; everything else
is for the payload rules to judge.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from diagnose.payload import body, tokens
from diagnose.payload.request import Origin, ParsedRequest, PayloadSyntaxError

__all__ = ["PayloadSyntaxError", "parse_curl", "parse_input", "parse_json"]


_DATA = {
    "-d": "data",
    "--data": "data",
    "--data-ascii": "data",
    "--data-binary": "binary",
    "--data-raw": "raw",
    "--json": "json",
}
_VALUE = {
    "-X": "method",
    "--request": "method",
    "-H": "header",
    "--header": "header",
    "--url": "url",
    "--oauth2-bearer": "bearer",
    "-u": "user",
    "--user": "user",
    **_DATA,
}
# Options that take a value but do not change what is sent to the execution API.
_IGNORED_WITH_VALUE = frozenset(
    [
        "-o",
        "--output",
        "-m",
        "--max-time",
        "--connect-timeout",
        "-w",
        "--write-out",
        "--cacert",
        "--capath",
        "--cert",
        "-E",
        "--key",
        "--key-type",
        "--cert-type",
        "--retry",
        "--retry-delay",
        "--retry-max-time",
        "-x",
        "--proxy",
        "--resolve",
        "--connect-to",
        "-A",
        "--user-agent",
        "-e",
        "--referer",
        "-b",
        "--cookie",
        "-c",
        "--cookie-jar",
        "-D",
        "--dump-header",
        "--trace",
        "--trace-ascii",
        "--stderr",
        "--limit-rate",
        "--interface",
        "-r",
        "--range",
        "--max-filesize",
        "--proto",
        "--proto-redir",
        "--dns-servers",
        "--tls-max",
        "--ciphers",
        "-Y",
        "--speed-limit",
        "-y",
        "--speed-time",
        "--expect100-timeout",
        "--happy-eyeballs-timeout-ms",
        "--keepalive-time",
        "--max-redirs",
    ]
)
# Options that carry a body or a request in a form the execution API does not take.
_UNSUPPORTED = {
    "-F": "multipart form data",
    "--form": "multipart form data",
    "--data-urlencode": "URL-encoded data",
    "-T": "an upload file",
    "--upload-file": "an upload file",
    "-K": "a curl config file",
    "--config": "a curl config file",
}
_SHORT_VALUE = {"X", "H", "d", "u", "o", "m", "w", "E", "x", "A", "e", "b", "c", "D", "r", "Y", "y"}
_STOP = frozenset({"|", "||", "&&", ";", ">", ">>", "&", "2>", "2>&1"})


def parse_input(text: str, base_dir: Path | None = None) -> ParsedRequest:
    """A cURL command, or a JSON payload when the text is JSON. `base_dir` also resolves `@file`."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("{", "["):
        return parse_json(text)
    return parse_curl(text, base_dir)


def parse_json(text: str) -> ParsedRequest:
    """A bare JSON payload (an object)."""
    value = body.decode(text.lstrip("\ufeff"), "the JSON payload", offset=None)
    if not isinstance(value, dict):
        raise PayloadSyntaxError(
            f"the payload must be a JSON object, not {body.json_type(value)}", 1, 1
        )
    return ParsedRequest(format="json", body=value, body_text=text)


def parse_curl(text: str, base_dir: Path | None = None) -> ParsedRequest:
    """A cURL command in any of the dialects `tokens` knows."""
    dialect = tokens.dialect_of(text)
    try:
        words = tokens.split(text, dialect)
    except tokens.TokenError as exc:
        raise PayloadSyntaxError(exc.problem, exc.line, exc.column) from None
    start = next((i for i, w in enumerate(words) if _is_curl(w)), None)
    if start is None:
        first = next((w for w in words if not w.is_newline), None)
        raise PayloadSyntaxError(
            "no cURL command here: expected `curl ...` or a JSON payload",
            first.line if first else 1,
            first.column if first else 1,
        )
    request = ParsedRequest(format="curl", dialect=dialect)
    command = words[start]
    _not_invoke_webrequest(words, start)
    data: list[tuple[str, str, Origin]] = []  # (kind, text, origin)
    i = start + 1
    continued = False
    while i < len(words):
        word = words[i]
        if word.is_newline:
            following = words[i + 1] if i + 1 < len(words) else None
            if following is None or not following.text.startswith("-"):
                break
            if not continued:
                continued = True
                request.notes.append(
                    f"line {following.line} (and any later one) continues the command without "
                    "a continuation character; read as one command"
                )
            i += 1
            continue
        if not word.quoted and word.text in _STOP:
            request.notes.append(
                f"ignored what follows {word.text!r} at line {word.line}, column {word.column}"
            )
            break
        i = _option(words, i, request, data)
    if not request.url:
        raise PayloadSyntaxError(
            "no URL: the cURL command names none (give it as an argument or with --url)",
            command.line,
            command.column,
        )
    _check_url(request)
    if "://" not in request.url:
        request.notes.append(f"the URL has no scheme: curl uses http://{request.url}")
        request.url = f"http://{request.url}"
    if data:
        body.read_body(request, data, base_dir)
    if request.method is None:
        request.method = "POST" if data else "GET"
    return request


_POWERSHELL_PARAMETERS = frozenset({"-uri", "-method", "-body", "-headers", "-contenttype"})


def _not_invoke_webrequest(words: list[tokens.Word], start: int) -> None:
    """Windows PowerShell's `curl` is Invoke-WebRequest: say so rather than misread it."""
    for word in words[start + 1 :]:
        if word.text.lower() in _POWERSHELL_PARAMETERS:
            raise PayloadSyntaxError(
                f"{word.text} is a parameter of PowerShell's Invoke-WebRequest (which Windows "
                "PowerShell calls `curl`), not of curl: copy the request for curl.exe",
                word.line,
                word.column,
            )


def _check_url(request: ParsedRequest) -> None:
    """A URL that cannot be split is an input error (never echoed: it may hold a token)."""
    where = request.url_origin
    url = request.url if "://" in (request.url or "") else f"http://{request.url}"
    try:
        urlsplit(url).port  # noqa: B018 - raises ValueError for a bad host or port
    except ValueError as exc:
        raise PayloadSyntaxError(
            f"the URL{'' if where is None or where.option == 'URL' else ' of ' + where.option} "
            f"is not valid ({exc})",
            where.line if where else None,
            where.column if where else None,
        ) from None


def _is_curl(word: tokens.Word) -> bool:
    name = word.text.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name in ("curl", "curl.exe")


def _take_value(words: list[tokens.Word], i: int, option: str) -> tokens.Word:
    if i + 1 >= len(words) or words[i + 1].is_newline:
        word = words[i]
        raise PayloadSyntaxError(f"{option} needs a value", word.line, word.column)
    return words[i + 1]


def _option(
    words: list[tokens.Word],
    i: int,
    request: ParsedRequest,
    data: list[tuple[str, str, Origin]],
) -> int:
    """Read the option (or URL) at words[i]; returns the index of the next word."""
    word = words[i]
    text = word.text
    if not text.startswith("-") or text == "-":  # quotes do not matter: curl sees the words
        if request.url is None:
            request.url, request.url_origin = text, Origin("URL", word.line, word.column)
        else:
            request.notes.append(f"ignored a second URL at line {word.line}, column {word.column}")
        return i + 1
    if text.startswith("--"):
        if text in _VALUE:
            value = _take_value(words, i, text)
            _apply(_VALUE[text], text, value.text, word, request, data)
            return i + 2
        if text in _UNSUPPORTED:
            raise PayloadSyntaxError(
                f"{text} sends {_UNSUPPORTED[text]}; the execution API takes a JSON body "
                "(-d, --data-raw, --data-binary or --json)",
                word.line,
                word.column,
            )
        if text in _IGNORED_WITH_VALUE:
            _take_value(words, i, text)
            return i + 2
        if text == "--head":
            request.method = "HEAD"
        elif text == "--get":
            request.notes.append("--get sends the data in the URL, not as the body")
        return i + 1
    # a cluster of short options: -sS, -sXPOST, -sX POST, -HName:value
    for position, letter in enumerate(text[1:], start=1):
        option = f"-{letter}"
        if option in _UNSUPPORTED:
            raise PayloadSyntaxError(
                f"{option} sends {_UNSUPPORTED[option]}; the execution API takes a JSON body",
                word.line,
                word.column,
            )
        if letter in _SHORT_VALUE:
            rest = text[position + 1 :]
            if rest:
                value_text, step = rest, 1
            else:
                value_text, step = _take_value(words, i, option).text, 2
            if option in _VALUE:
                _apply(_VALUE[option], option, value_text, word, request, data)
            return i + step
        if letter == "I":
            request.method = "HEAD"
        elif letter == "G":
            request.notes.append("-G sends the data in the URL, not as the body")
    return i + 1


def _apply(
    role: str,
    option: str,
    value: str,
    word: tokens.Word,
    request: ParsedRequest,
    data: list[tuple[str, str, Origin]],
) -> None:
    if role == "method":
        request.method = value.upper()
    elif role == "url":
        request.url, request.url_origin = value, Origin(option, word.line, word.column)
    elif role == "header":
        name, colon, rest = value.partition(":")
        if not colon:
            if value.endswith(";"):  # curl: "Name;" sends the header empty
                request.headers.append((value[:-1].strip(), ""))
            else:
                request.notes.append(
                    f"ignored a header without a colon at line {word.line}, column {word.column}"
                )
            return
        request.headers.append((name.strip(), rest.strip()))
    elif role == "bearer":
        request.headers.append(("Authorization", f"Bearer {value}"))
    elif role == "user":  # the credentials themselves are never kept
        request.notes.append(
            f"{option} at line {word.line}, column {word.column} sends Basic credentials; "
            "the execution API wants an IMS access token as Authorization (Bearer)"
        )
    else:
        data.append((role, value, Origin(option, word.line, word.column)))
        if role == "json":
            request.headers.append(("Content-Type", "application/json"))
            request.headers.append(("Accept", "application/json"))
