"""Read a cURL command as people paste it (or a bare JSON payload) into a ParsedRequest.

Words come from `shellwords`, bodies from `body`; this module knows curl's options.

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

from diagnose.payload import body, shellwords
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
# Options that take a value but do not change what is sent to the execution API, in two kinds.
# Worth a note: they change what curl would send, or may carry a secret.
_NOTED_WITH_VALUE = frozenset(
    [
        "-U",
        "--proxy-user",
        "--pass",
        "--proxy-pass",
        "--url-query",
        "--variable",
        "--aws-sigv4",
        "--noproxy",
        "--proxy-header",
        "--request-target",
        "--unix-socket",
        "--abstract-unix-socket",
        "--cert",
        "-E",
        "--key",
        "--proxy-cert",
        "--proxy-key",
        "--login-options",
        "--sasl-authzid",
        "--delegation",
        "--tlsuser",
        "--tlspassword",
        "--proxy-tlsuser",
        "--proxy-tlspassword",
        "--socks5",
        "--socks5-hostname",
        "--socks4",
        "--socks4a",
        "--preproxy",
        "--doh-url",
        "-x",
        "--proxy",
        "-b",
        "--cookie",
        "-C",
        "--continue-at",
        "-P",
        "--ftp-port",
        "-Q",
        "--quote",
        "-t",
        "--telnet-option",
        "-z",
        "--time-cond",
    ]
)
# Skipped silently: transfer, output and TLS settings.
_QUIET_WITH_VALUE = frozenset(
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
        "--key-type",
        "--cert-type",
        "--retry",
        "--retry-delay",
        "--retry-max-time",
        "--resolve",
        "--connect-to",
        "-A",
        "--user-agent",
        "-e",
        "--referer",
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
        "--proxy-cacert",
    ]
)
_IGNORED_WITH_VALUE = _QUIET_WITH_VALUE | _NOTED_WITH_VALUE
# Options without a value that do not change the request to the execution API: skipped silently.
_KNOWN_FLAGS = frozenset(
    [
        "--silent",
        "--show-error",
        "--location",
        "--location-trusted",
        "--compressed",
        "--insecure",
        "--verbose",
        "--include",
        "--fail",
        "--fail-with-body",
        "--fail-early",
        "--globoff",
        "--no-buffer",
        "--no-progress-meter",
        "--progress-bar",
        "--http1.0",
        "--http1.1",
        "--http2",
        "--http2-prior-knowledge",
        "--http3",
        "--ipv4",
        "--ipv6",
        "--tlsv1",
        "--tlsv1.0",
        "--tlsv1.1",
        "--tlsv1.2",
        "--tlsv1.3",
        "--ssl",
        "--ssl-reqd",
        "--ssl-no-revoke",
        "--tr-encoding",
        "--raw",
        "--no-keepalive",
        "--no-sessionid",
        "--path-as-is",
        "--disable",
        "--disable-epsv",
        "--styled-output",
        "--no-styled-output",
        "--retry-connrefused",
        "--retry-all-errors",
        "--remote-name",
        "--remote-name-all",
        "--remote-header-name",
        "--create-dirs",
        "--digest",
        "--basic",
        "--ntlm",
        "--negotiate",
        "--anyauth",
        "--proxy-insecure",
        "--proxytunnel",
        "--suppress-connect-headers",
        "--junk-session-cookies",
        "--netrc",
        "--netrc-optional",
        "--no-alpn",
        "--no-npn",
        "--false-start",
        "--tcp-nodelay",
        "--tcp-fastopen",
        "--parallel",
        "--xattr",
        "--trace-time",
        "--no-clobber",
        "--remove-on-error",
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
_SHORT_VALUE = {
    "X",
    "H",
    "d",
    "u",
    "o",
    "m",
    "w",
    "E",
    "x",
    "A",
    "e",
    "b",
    "c",
    "D",
    "r",
    "Y",
    "y",
    "U",
    "C",
    "P",
    "Q",
    "t",
    "z",
}
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
    """A cURL command in any of the dialects `shellwords` knows."""
    dialect = shellwords.dialect_of(text)
    words = shellwords.split(text, dialect)  # a TokenError is a PayloadSyntaxError
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
    positional: list[tuple[shellwords.Word, bool]] = []  # (word, right after an unknown option)
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
        i = _option(words, i, request, data, positional)
    _choose_url(request, positional)
    if not request.url:
        raise PayloadSyntaxError(
            "no URL: the cURL command names none (give it as an argument or with --url)",
            command.line,
            command.column,
        )
    _check_url(request)
    _drop_userinfo(request)
    if "://" not in request.url:
        request.notes.append(f"the URL has no scheme: curl uses http://{request.url}")
        request.url = f"http://{request.url}"
    if data:
        body.read_body(request, data, base_dir)
    if request.method is None:
        request.method = "POST" if data else "GET"
    return request


_POWERSHELL_PARAMETERS = frozenset({"-uri", "-method", "-body", "-headers", "-contenttype"})


def _not_invoke_webrequest(words: list[shellwords.Word], start: int) -> None:
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
    except ValueError:  # its text quotes the URL's parts (a password, a token): not shown
        raise PayloadSyntaxError(
            f"the URL{'' if where is None or where.option == 'URL' else ' of ' + where.option} "
            "is not valid (its host or port cannot be read)",
            where.line if where else None,
            where.column if where else None,
        ) from None


def _drop_userinfo(request: ParsedRequest) -> None:
    """`https://user:password@host/...`: curl would send Basic credentials; they are never kept."""
    url = request.url or ""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    end = min((rest.find(c) for c in "/?#" if c in rest), default=len(rest))
    authority = rest[:end]
    if "@" not in authority:
        return
    host = authority.rpartition("@")[2]
    request.url = f"{scheme}{sep}{host}{rest[end:]}"
    where = request.url_origin
    at = f" (at line {where.line}, column {where.column})" if where else ""
    request.notes.append(
        f"credentials in the URL were dropped{at}: the execution API wants an IMS access "
        "token as Authorization (Bearer), never a user and password"
    )


def _choose_url(request: ParsedRequest, positional: list[tuple[shellwords.Word, bool]]) -> None:
    """The URL among the words that are no option's value.

    A word right after an unknown option may be that option's value (which may be a secret):
    another word is preferred, and the unused ones are never echoed.
    """
    if request.url is None and positional:
        plain = [w for w, after_unknown in positional if not after_unknown]
        chosen = (plain or [w for w, _ in positional])[0]
        request.url, request.url_origin = chosen.text, Origin("URL", chosen.line, chosen.column)
    for word, after_unknown in positional:
        if request.url_origin is not None and (word.line, word.column) == (
            request.url_origin.line,
            request.url_origin.column,
        ):
            continue
        if after_unknown:
            request.notes.append(
                f"ignored the word at line {word.line}, column {word.column}: read as the value "
                "of the unknown option before it"
            )
        else:
            request.notes.append(f"ignored a second URL at line {word.line}, column {word.column}")


def _is_curl(word: shellwords.Word) -> bool:
    name = word.text.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name in ("curl", "curl.exe")


def _take_value(words: list[shellwords.Word], i: int, option: str) -> shellwords.Word:
    if i + 1 >= len(words) or words[i + 1].is_newline:
        word = words[i]
        raise PayloadSyntaxError(f"{option} needs a value", word.line, word.column)
    return words[i + 1]


def _option(
    words: list[shellwords.Word],
    i: int,
    request: ParsedRequest,
    data: list[tuple[str, str, Origin]],
    positional: list[tuple[shellwords.Word, bool]],
) -> int:
    """Read the option (or URL) at words[i]; returns the index of the next word."""
    word = words[i]
    text = word.text
    if not text.startswith("-") or text == "-":  # quotes do not matter: curl sees the words
        previous = words[i - 1].text if i > 0 and not words[i - 1].is_newline else ""
        positional.append((word, _unknown_long(previous)))
        return i + 1
    where = f"at line {word.line}, column {word.column}"
    if text.startswith("--") and "=" in text:
        name = text.partition("=")[0]  # the value is not shown: it may be a secret
        request.notes.append(
            f"ignored {name}=... {where}: curl takes an option's value as the next word "
            f"(`{name} VALUE`) and rejects this form"
        )
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
            if text in _NOTED_WITH_VALUE:
                request.notes.append(f"ignored {text} and its value {where}")
            return i + 2
        if text == "--head":
            request.method = "HEAD"
        elif text == "--get":
            request.notes.append("--get sends the data in the URL, not as the body")
        elif _unknown_long(text):
            request.notes.append(
                f"ignored the unknown option {text} {where} (if it takes a value, the word "
                "after it is not read as the URL)"
            )
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
            elif option in _NOTED_WITH_VALUE:
                request.notes.append(f"ignored {option} and its value {where}")
            return i + step
        if letter == "I":
            request.method = "HEAD"
        elif letter == "G":
            request.notes.append("-G sends the data in the URL, not as the body")
    return i + 1


def _unknown_long(text: str) -> bool:
    """A `--option` this parser does not know (its value, if it takes one, is unknown too)."""
    return (
        text.startswith("--")
        and len(text) > 2
        and "=" not in text
        and text not in _VALUE
        and text not in _IGNORED_WITH_VALUE
        and text not in _UNSUPPORTED
        and text not in _KNOWN_FLAGS
        and text not in ("--head", "--get")
        and not text.startswith("--no-")
    )


def _apply(
    role: str,
    option: str,
    value: str,
    word: shellwords.Word,
    request: ParsedRequest,
    data: list[tuple[str, str, Origin]],
) -> None:
    if role == "method":
        request.method = value.upper()
    elif role == "url":
        if request.url is not None:
            request.notes.append(
                f"ignored a second URL ({option}) at line {word.line}, column {word.column}"
            )
            return
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
