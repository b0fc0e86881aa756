"""Split a pasted command line into words, the way its shell would, remembering where each word starts.

Three dialects, chosen by `dialect_of` from the continuation character at the
end of the lines:

- `posix` (bash, zsh; line continuation `\\`): `'...'` is literal; inside
  `"..."` a backslash escapes only `$`, a backtick, `"`, `\\` and the newline;
  outside quotes it escapes any character. For command-free text the words are
  exactly those of `shlex.split` (a property test holds it to that).
  bash's ANSI-C quotes `$'...'` (Chrome's and Firefox's "Copy as cURL" when a
  value holds `'`, a newline or a control character) decode `\\n \\t \\r \\' \\"
  \\\\ \\xHH \\uHHHH` and the other escapes bash knows.
- `powershell` (continuation `` ` ``): `'...'` is literal with `''` for one
  quote; inside `"..."` the backtick escapes and `""` is one quote.
- `cmd` (Windows cmd.exe, continuation `^`): two passes, as on Windows. First
  cmd.exe removes its carets: outside its own double quotes (which every `"`
  toggles, escaped or not for the C runtime) `^` escapes the next character, and
  `^` before a line end continues the line (the character after the line end is
  then literal, so Chrome's `^` + two line ends is one newline). Then the program's
  C runtime splits the rest: only `"` quotes (`""` inside quotes is one quote),
  backslashes before a `"` follow its rules (`\\"` is a literal quote), other
  backslashes are literal (so `C:\\data\\body.json` stays a path). Chrome's "Copy as
  cURL (cmd)" writes every quote as `^"`: cmd passes it on, the C runtime quotes.

`shlex` is not used for the splitting itself because it reports no positions
(the user needs "line 3, column 9" for an unclosed quote) and models neither
PowerShell's `''` nor cmd's rules. Unquoted newlines that are not continued are
kept as `NEWLINE` words so the caller can decide where the command ends.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from diagnose.payload.request import PayloadSyntaxError

NEWLINE = "\n"  # the text of a NEWLINE word (never produced by a quoted word)

CONTINUATION = {"posix": "\\", "powershell": "`", "cmd": "^"}


class TokenError(PayloadSyntaxError):
    """The text cannot be split: the message names the problem, line and column (1-based)."""

    line: int
    column: int

    def __init__(self, message: str, line: int, column: int):
        super().__init__(message, line, column)


@dataclass(frozen=True)
class Word:
    text: str
    line: int
    column: int
    quoted: bool = False  # any part of the word was quoted or escaped

    @property
    def is_newline(self) -> bool:
        return self.text == NEWLINE and not self.quoted


_CONTINUED = re.compile(r"([\\`^])[ \t]*\r?$", re.M)


def dialect_of(text: str) -> str:
    """`posix`, `powershell` or `cmd`, from the characters that continue lines (posix when none).

    A one-line command is read as posix: its double-quoted bodies with backslash-escaped quotes
    mean the same in cmd.
    """
    content_end = len(text.rstrip())
    ends = [m.group(1) for m in _CONTINUED.finditer(text) if m.end() < content_end]
    for dialect in ("powershell", "cmd"):
        if CONTINUATION[dialect] in ends and CONTINUATION["posix"] not in ends:
            return dialect
    if '^"' in text and not {CONTINUATION["posix"], CONTINUATION["powershell"]} & set(ends):
        return "cmd"  # Chrome's "Copy as cURL (cmd)" on one line: every quote is ^"
    return "posix"


@functools.lru_cache(maxsize=4)
def _line_starts(text: str) -> tuple[int, ...]:
    """The offset at which each line of `text` starts (computed once per text)."""
    return (0, *(m.end() for m in re.finditer("\n", text)))


def _position(text: str, offset: int) -> tuple[int, int]:
    """(line, column), both from 1, of `offset`: a binary search, so splitting stays linear."""
    starts = _line_starts(text)
    line = bisect.bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


def _continuation_end(text: str, i: int) -> int | None:
    """If text[i] starts a line continuation (char, optional blanks, newline), the offset after it."""
    j = i + 1
    while j < len(text) and text[j] in " \t\r":
        j += 1
    if j < len(text) and text[j] == "\n":
        return j + 1
    return None


class _Words:
    """The words read so far, and the one being read: its characters (`buf`), the offset it began
    at and whether any part of it was quoted; `position` turns an offset into (line, column)."""

    def __init__(self, position: Callable[[int], tuple[int, int]]) -> None:
        self.position = position
        self.words: list[Word] = []
        self.buf: list[str] = []
        self.start: int | None = None
        self.quoted = False

    def begin(self, at: int) -> None:
        if self.start is None:
            self.start = at

    def flush(self) -> None:
        """The word being read, if any, is complete."""
        if self.start is not None:
            line, column = self.position(self.start)
            self.words.append(Word("".join(self.buf), line, column, quoted=self.quoted))
        self.buf.clear()
        self.start, self.quoted = None, False

    def newline(self, at: int) -> None:
        """An unquoted line end: the word before it is complete; one NEWLINE word for a run."""
        self.flush()
        if not self.words or not self.words[-1].is_newline:
            self.words.append(Word(NEWLINE, *self.position(at)))


def split(text: str, dialect: str = "posix") -> list[Word]:
    """The words of `text` in `dialect`; raises TokenError for an unclosed quote or a dangling escape."""
    if dialect == "cmd":
        return _split_cmd(text)
    escape = CONTINUATION[dialect]
    out = _Words(functools.partial(_position, text))
    buf = out.buf
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == escape:
            after = _continuation_end(text, i)
            if after is not None:  # line continuation: a word break, nothing else
                if dialect != "posix" or text[i + 1] != "\n":
                    out.flush()
                i = after
                continue
            if i + 1 >= n:
                line, column = _position(text, i)
                raise TokenError(f"the text ends with the escape character {c!r}", line, column)
            out.begin(i)
            buf.append(text[i + 1])
            out.quoted = True
            i += 2
            continue
        if c in " \t\r":
            out.flush()
            i += 1
            continue
        if c == "\n":
            out.newline(i)
            i += 1
            continue
        if dialect == "posix" and c == "$" and text.startswith("'", i + 1):
            out.begin(i)
            out.quoted = True
            i = _ansi_c(text, i, buf)
            continue
        if c in "\"'":
            out.begin(i)
            out.quoted = True
            i = _quoted(text, i, dialect, buf)
            continue
        out.begin(i)
        buf.append(c)
        i += 1
    out.flush()
    return out.words


def _backslashes(text: str, i: int, buf: list[str]) -> tuple[int, bool]:
    """cmd / C runtime: a run of backslashes; returns (next offset, whether a literal quote followed)."""
    j = i
    while j < len(text) and text[j] == "\\":
        j += 1
    count = j - i
    if j < len(text) and text[j] == '"':
        buf.append("\\" * (count // 2))
        if count % 2:
            buf.append('"')
            return j + 1, True
        return j, False
    buf.append("\\" * count)
    return j, False


def _quoted(text: str, i: int, dialect: str, buf: list[str]) -> int:
    """Consume the quoted section opening at text[i] (posix or powershell; cmd has `_split_cmd`);
    returns the offset after its closing quote."""
    quote = text[i]
    j = i + 1
    n = len(text)
    while j < n:
        c = text[j]
        if quote == "'":
            if c == "'":
                if dialect == "powershell" and j + 1 < n and text[j + 1] == "'":
                    buf.append("'")
                    j += 2
                    continue
                return j + 1
            buf.append(c)
            j += 1
            continue
        # double quotes
        if c == '"':
            if dialect == "powershell" and j + 1 < n and text[j + 1] == '"':
                buf.append('"')
                j += 2
                continue
            return j + 1
        if dialect == "posix" and c == "\\" and j + 1 < n:
            nxt = text[j + 1]
            if nxt == "\n":
                j += 2
                continue
            if nxt in '$`"\\':
                buf.append(nxt)
                j += 2
                continue
        if dialect == "powershell" and c == "`" and j + 1 < n:
            nxt = text[j + 1]
            buf.append({"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(nxt, nxt))
            j += 2
            continue
        buf.append(c)
        j += 1
    line, column = _position(text, i)
    name = "single" if quote == "'" else "double"
    raise TokenError(f"the {name} quote opened here is never closed", line, column)


def _cmd_carets(text: str) -> tuple[str, list[int], set[int]]:
    """cmd.exe's pass: (the text without its carets, each character's offset in `text`, the
    indexes of characters a caret made literal)."""
    out: list[str] = []
    where: list[int] = []
    literal: set[int] = set()
    in_quotes = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "^" and not in_quotes:
            after = _continuation_end(text, i)
            if after is not None:  # the line end goes; the character after it is literal
                i = after
                if i < n and text[i] not in " \t":
                    literal.add(len(out))
                    out.append(text[i])
                    where.append(i)
                    i += 1
                continue
            if i + 1 >= n:
                line, column = _position(text, i)
                raise TokenError("the text ends with the escape character '^'", line, column)
            literal.add(len(out))
            out.append(text[i + 1])
            where.append(i + 1)
            i += 2
            continue
        if c == '"':
            in_quotes = not in_quotes
        out.append(c)
        where.append(i)
        i += 1
    return "".join(out), where, literal


def _split_cmd(text: str) -> list[Word]:
    """cmd.exe removes its carets, then the C runtime splits the words."""
    clean, where, literal = _cmd_carets(text)
    in_quotes = False
    opened = 0
    i, n = 0, len(clean)

    def at(k: int) -> tuple[int, int]:
        return _position(text, where[k] if k < len(where) else len(text))

    out = _Words(at)
    buf = out.buf
    while i < n:
        c = clean[i]
        if c == "\\":
            out.begin(i)
            i, quote = _backslashes(clean, i, buf)
            out.quoted = out.quoted or quote
            continue
        if c == '"':
            out.begin(i)
            out.quoted = True
            if in_quotes and i + 1 < n and clean[i + 1] == '"':  # "" inside quotes: one quote
                buf.append('"')
                i += 2
                continue
            in_quotes = not in_quotes
            opened = i
            i += 1
            continue
        if not in_quotes and c in " \t\r":
            out.flush()
            i += 1
            continue
        if not in_quotes and c == "\n" and i not in literal:
            out.newline(i)
            i += 1
            continue
        out.begin(i)
        buf.append(c)
        out.quoted = out.quoted or i in literal
        i += 1
    if in_quotes:
        line, column = at(opened)
        raise TokenError("the double quote opened here is never closed", line, column)
    out.flush()
    return out.words


_ANSI_C = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}
_HEX = frozenset("0123456789abcdefABCDEF")
_DIGITS = {"x": 2, "u": 4, "U": 8}


def _code_point(value: int) -> str:
    """A character for `value`; bash writes nothing sensible for a surrogate or beyond Unicode."""
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        return "\ufffd"
    return chr(value)


def _ansi_c(text: str, i: int, buf: list[str]) -> int:
    """bash's `$'...'` opening at text[i] (the `$`); returns the offset after its closing quote."""
    j, n = i + 2, len(text)
    while j < n:
        c = text[j]
        if c == "'":
            return j + 1
        if c != "\\" or j + 1 >= n:
            buf.append(c)
            j += 1
            continue
        nxt = text[j + 1]
        if nxt in _ANSI_C:
            buf.append(_ANSI_C[nxt])
            j += 2
        elif nxt in _DIGITS:
            k = j + 2
            while k < n and k - (j + 2) < _DIGITS[nxt] and text[k] in _HEX:
                k += 1
            if k == j + 2:  # no digit: bash keeps the text as it is
                buf.append("\\" + nxt)
            else:
                buf.append(_code_point(int(text[j + 2 : k], 16)))
            j = k
        elif nxt in "01234567":
            k = j + 1
            while k < n and k - (j + 1) < 3 and text[k] in "01234567":
                k += 1
            buf.append(chr(int(text[j + 1 : k], 8) & 0xFF))
            j = k
        else:
            buf.append("\\" + nxt)
            j += 2
    line, column = _position(text, i)
    raise TokenError("the ANSI-C quote ($') opened here is never closed", line, column)
