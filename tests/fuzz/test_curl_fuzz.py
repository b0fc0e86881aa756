"""The cURL parser in its three dialects: random text, and random recombinations of real commands.

In process the parser may raise only PayloadSyntaxError, and the payload rules must judge
whatever it parsed; through the real CLI, `payload check --offline` ends cleanly.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diagnose.payload.check import check
from diagnose.payload.curl import PayloadSyntaxError, parse_input
from diagnose.payload.shellwords import TokenError, split
from tests.fuzz import FUZZ, FUZZ_CLI, assert_ended_cleanly, text_with
from tests.harness import run_cli

CORPUS = Path(__file__).parent.parent / "payload" / "corpus"
CORPUS_LINES = sorted(
    {
        line
        for path in CORPUS.iterdir()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
)
CONTINUATION = {"posix": "\\", "powershell": "`", "cmd": "^"}
PIECES = st.sampled_from(
    [
        "curl",
        "curl.exe",
        " -X POST",
        " -H ",
        " -d ",
        " --data-raw ",
        " --json ",
        " --url ",
        " -sSL",
        " -HContent-Type:application/json",
        " --oauth2-bearer ",
        " -u user:pw",
        " https://platform.adobe.io/ajo/im/executions/unitary",
        " https://[::1/",
        " https://h:99999/x",
        " @body.json",
        " @-",
        " '{\"campaignId\": 1e999}'",
        ' \'{"a": ' + "1" * 5000 + "}'",
        " '" + "[" * 2000 + "'",
        ' "',
        " '",
        " $'\\x1b\\u202e'",
        ' ^"',
        " `",
        " | jq",
        " ; rm",
        "\n",
        "\r\n",
        " \\\n",
        " `\n",
        " ^\n",
    ]
)
TEXT = text_with("'\"\\`^$@{}[]:;|&<>-=\n\r\t \x00\x1b\u202e", max_size=80)


def parse_and_check(text: str, base_dir: Path) -> None:
    """Parsed and judged, or refused with a line and column; nothing else."""
    try:
        parsed = parse_input(text, base_dir)
    except PayloadSyntaxError as exc:
        assert exc.problem
        return
    check(parsed, kind="unitary")


@FUZZ
@given(text=TEXT, dialect=st.sampled_from(sorted(CONTINUATION)))
def test_random_text_in_each_dialect(tmp_path: Path, text: str, dialect: str) -> None:
    with contextlib.suppress(TokenError):
        split(text, dialect)
    mark = CONTINUATION[dialect]
    command = f"curl -X POST {mark}\n" + text.replace("\n", f" {mark}\n")
    parse_and_check(command, tmp_path)
    parse_and_check(text, tmp_path)


@FUZZ
@given(pieces=st.lists(PIECES, min_size=1, max_size=14))
def test_random_sequences_of_curl_words(tmp_path: Path, pieces: list[str]) -> None:
    (tmp_path / "body.json").write_text('{"campaignId": "x"}')
    parse_and_check("".join(pieces), tmp_path)


@FUZZ
@given(lines=st.lists(st.sampled_from(CORPUS_LINES), min_size=1, max_size=10))
def test_random_recombinations_of_corpus_lines(tmp_path: Path, lines: list[str]) -> None:
    parse_and_check("\n".join(lines) + "\n", CORPUS)


@FUZZ_CLI
@given(
    lines=st.lists(st.sampled_from(CORPUS_LINES), min_size=1, max_size=8),
    garbage=st.lists(PIECES, max_size=4),
)
def test_through_the_cli(tmp_path: Path, lines: list[str], garbage: list[str]) -> None:
    path = tmp_path / "request.sh"
    path.write_text("\n".join(lines) + "".join(garbage) + "\n", encoding="utf-8")
    for output in ("text", "json"):
        result = run_cli("payload", "check", "--offline", "--output", output, str(path))
        assert_ended_cleanly(result)


# --- hostile inputs the fuzzing found, kept as cases ----------------------------------------------
def test_an_endless_or_oversized_input_is_refused_after_10_mb(tmp_path: Path) -> None:
    result = run_cli("payload", "check", "--offline", "/dev/zero", timeout=60)
    assert_ended_cleanly(result)
    assert result.exit_code == 2 and "/dev/zero is larger than 10 MB" in result.stderr
    result = run_cli("payload", "check", "--offline", "-", stdin=b" " * (10 * 1024 * 1024 + 1))
    assert result.exit_code == 2 and "<stdin> is larger than 10 MB" in result.stderr
    path = tmp_path / "just-under.json"
    path.write_text('{"campaignId": "x"}' + " " * (10 * 1024 * 1024 - 100))
    assert run_cli("payload", "check", "--offline", str(path)).exit_code in (0, 1)


@pytest.mark.parametrize("sign", ["", "-"])
def test_a_5000_digit_integer_is_an_input_error(tmp_path: Path, sign: str) -> None:
    number = sign + "9" * 5000
    bare = tmp_path / "payload.json"
    bare.write_text(f'{{"campaignId": "x", "n": {number}}}')
    command = tmp_path / "request.sh"
    command.write_text(
        "curl -X POST https://platform.adobe.io/ajo/im/executions/unitary "
        f'-d \'{{"campaignId": "x", "n": {number}}}\'\n'
    )
    for path in (bare, command):
        result = run_cli("payload", "check", "--offline", str(path))
        assert_ended_cleanly(result)
        assert result.exit_code == 2, result
        assert "integer of 5000 digits" in result.stderr and number not in result.stderr


def test_100k_headers_are_read_in_linear_time(tmp_path: Path) -> None:
    """53 s before (each word's line counted from the start); ~1-5 s now. The bound is generous."""
    lines = ["curl -X POST 'https://platform.adobe.io/ajo/im/executions/unitary' \\"]
    lines += [f"  -H 'X-Custom-{i}: v{i}' \\" for i in range(100_000)]
    lines.append('  -d \'{"campaignId": "x"}\'')
    path = tmp_path / "headers.sh"
    path.write_text("\n".join(lines) + "\n")
    result = run_cli("payload", "check", "--offline", "--output", "json", str(path), timeout=30)
    assert_ended_cleanly(result)
    assert result.exit_code in (0, 1) and result.json()
