"""The word splitter: each dialect's quoting, positions, and agreement with shlex for POSIX text."""

from __future__ import annotations

import re
import shlex

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from diagnose.payload.shellwords import TokenError, dialect_of, split


def words(text: str, dialect: str = "posix") -> list[str]:
    return [w.text for w in split(text, dialect) if not w.is_newline]


@pytest.mark.parametrize(
    ("text", "dialect"),
    [
        ("curl a", "posix"),
        ("curl a \\\n  -d b", "posix"),
        ("curl a `\n  -d b", "powershell"),
        ("curl.exe a ^\r\n  -d b", "cmd"),
        ("curl a \\  \n -d x", "posix"),  # blanks after the backslash are forgiven
        ("curl.exe -d 'x'", "posix"),  # one line: read as posix
    ],
)
def test_dialect_comes_from_the_continuation_character(text: str, dialect: str) -> None:
    assert dialect_of(text) == dialect


@pytest.mark.parametrize(
    ("text", "dialect", "expected"),
    [
        # posix: single quotes literal, double quotes escape only $ ` " \ and newline
        ("""-d '{"a": "b\\n"}'""", "posix", ["-d", '{"a": "b\\n"}']),
        ('''-d "{\\"a\\": \\"\\$x \\\\ \\q\\"}"''', "posix", ["-d", '{"a": "$x \\ \\q"}']),
        ("a\\ b c", "posix", ["a b", "c"]),
        ("'it'\\''s'", "posix", ["it's"]),
        # PowerShell: '' is one quote in single quotes, the backtick escapes in double quotes
        ("-d 'O''Brien'", "powershell", ["-d", "O'Brien"]),
        ('-d "say `"hi`" ""x"""', "powershell", ["-d", 'say "hi" "x"']),
        ("C:\\data\\body.json", "powershell", ["C:\\data\\body.json"]),
        # cmd: only double quotes; \" is a quote (C runtime); other backslashes are literal
        ('-d "{\\"a\\": 1}"', "cmd", ["-d", '{"a": 1}']),
        ("-d @C:\\data\\body.json", "cmd", ["-d", "@C:\\data\\body.json"]),
        ("-d '{a}'", "cmd", ["-d", "'{a}'"]),
        ('"a\\\\\\"b"', "cmd", ['a\\"b']),
        ("a^&b", "cmd", ["a&b"]),
    ],
)
def test_quoting_per_dialect(text: str, dialect: str, expected: list[str]) -> None:
    assert words(text, dialect) == expected


def test_positions_are_one_based_line_and_column() -> None:
    parsed = split("curl \\\n  -H 'x: y'\n", "posix")
    assert [(w.text, w.line, w.column) for w in parsed if not w.is_newline] == [
        ("curl", 1, 1),
        ("-H", 2, 3),
        ("x: y", 2, 6),
    ]


@pytest.mark.parametrize(
    ("text", "dialect", "line", "column", "problem"),
    [
        ('curl \\\n -d \'{"a"', "posix", 2, 5, "single quote"),
        ('curl -d "abc', "posix", 1, 9, "double quote"),
        ('curl `\n -d "a`"', "powershell", 2, 5, "double quote"),
        ("curl -d x\\", "posix", 1, 10, "escape character"),
    ],
)
def test_errors_say_where(text: str, dialect: str, line: int, column: int, problem: str) -> None:
    with pytest.raises(TokenError) as caught:
        split(text, dialect)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert problem in caught.value.problem


# Where bash and shlex differ, the splitter follows bash: a backslash-newline joins lines,
# and inside double quotes a backslash also escapes $ and `; $'...' is ANSI-C quoting. Elsewhere
# the two must agree.
_BASH_ONLY = re.compile(r"\\[ \t\r]*\n|\\[$`]|\$'")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab -'\"\\\n\t$`{}:@"), max_size=40))
def test_posix_words_agree_with_shlex(text: str) -> None:
    assume(not _BASH_ONLY.search(text))
    try:
        expected = shlex.split(text, comments=False, posix=True)
    except ValueError:
        with pytest.raises(TokenError):
            split(text, "posix")
        return
    assert words(text) == expected
