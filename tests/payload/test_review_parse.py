"""What a pasted cURL holds that curl itself would use but diagnose must never echo or misread:
URL credentials, the values of options it ignores, the `--option=value` form, JSON's non-numbers,
and the shells' own quoting (Chrome's cmd form, bash's ANSI-C quotes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diagnose.payload import shellwords
from diagnose.payload.build import to_curl
from diagnose.payload.curl import PayloadSyntaxError, parse_input
from tests.harness import Cli
from tests.schemas import validate_document

URL = "https://platform.adobe.io/ajo/im/executions/unitary"
OUTPUTS = ("text", "json", "markdown")


def check(cli: Cli, tmp_path: Path, text: str, output: str) -> tuple[int, str, str]:
    path = tmp_path / "c.sh"
    path.write_text(text)
    result = cli("payload", "check", str(path), "--offline", "--output", output)
    return result.exit_code, result.stdout, result.stderr


# --- 1. credentials in the URL ----------------------------------------------------------------
@pytest.mark.parametrize("output", OUTPUTS)
def test_a_password_in_the_url_is_dropped_and_never_printed(
    output: str, cli: Cli, tmp_path: Path
) -> None:
    body = '{"requestId":"r1","campaignId":"c","recipients":[]}'
    text = f"curl -X POST 'https://bob:Zq9hunter@platform.adobe.io/ajo/im/executions/unitary?x=1' -d '{body}'\n"
    code, out, err = check(cli, tmp_path, text, output)
    assert code in (0, 1), err
    assert "Zq9hunter" not in out + err
    assert "credentials in the URL were dropped" in out
    if output == "json":
        doc = validate_document(out)
        assert doc["request"]["url"] == f"{URL}?x=1"
        assert doc["request"]["host"] == "platform.adobe.io"
        assert "Zq9hunter" not in (doc["curl"] or "")
    if output == "markdown":
        assert "https://platform.adobe.io/ajo/im/executions/unitary?x=1" in out  # ticket cURL


def test_the_parsed_url_keeps_no_userinfo() -> None:
    parsed = parse_input(
        "curl https://bob:p%40ss@platform.adobe.io:443/ajo/im/executions/unitary -d '{}'"
    )
    assert parsed.url == "https://platform.adobe.io:443/ajo/im/executions/unitary"
    assert parsed.kind == "unitary"
    assert any("credentials in the URL were dropped" in n for n in parsed.notes)


def test_a_bad_port_is_an_input_error_that_does_not_echo_it(cli: Cli, tmp_path: Path) -> None:
    code, out, err = check(
        cli, tmp_path, "curl -X POST https://platform.adobe.io:Zq9hunter/ajo/x -d '{}'\n", "json"
    )
    assert code == 2
    assert out == ""
    assert "the URL is not valid" in err
    assert "Zq9hunter" not in err


# --- 2. options that take a value and are ignored ---------------------------------------------
@pytest.mark.parametrize(
    "options",
    [
        "-U bob:hunter2secret",
        "--proxy-user bob:hunter2secret",
        "--pass hunter2secret --cert c.pem",
        "--proxy-pass hunter2secret",
        "--url-query hunter2secret=1",
        "--variable hunter2secret=1",
        "--aws-sigv4 hunter2secret",
        "--noproxy hunter2secret",
        "--proxy-header x-hunter2secret:1",
        "--request-target hunter2secret",
        "--unix-socket /tmp/hunter2secret",
        "-E c.pem:hunter2secret",
        "-sU bob:hunter2secret",
        "-z hunter2secret",
        "--some-future-option hunter2secret",
    ],
)
@pytest.mark.parametrize("output", OUTPUTS)
def test_the_value_of_an_ignored_option_is_never_the_url_nor_printed(
    options: str, output: str, cli: Cli, tmp_path: Path
) -> None:
    text = f"curl {options} {URL} -d '{{}}'\n"
    code, out, err = check(cli, tmp_path, text, output)
    assert code in (0, 1), err
    assert "hunter2secret" not in out + err
    if output == "json":
        doc = json.loads(out)
        assert doc["request"]["url"] == URL
        assert doc["request"]["kind"] == "unitary"
        assert any(n.startswith("ignored ") for n in doc["request"]["notes"])


def test_the_oauth2_bearer_option_is_a_bearer_header() -> None:
    parsed = parse_input(f"curl --oauth2-bearer abc.def {URL} -d '{{}}'")
    assert parsed.url == URL
    assert parsed.header("Authorization") == "Bearer abc.def"


def test_an_unknown_option_is_noted_and_known_flags_are_not() -> None:
    parsed = parse_input(f"curl --location --compressed --frob {URL} -d '{{}}'")
    assert parsed.url == URL
    assert len(parsed.notes) == 1 and "--frob" in parsed.notes[0]


# --- 8. --header=... / --data=... -----------------------------------------------------------------
def test_the_equals_form_is_noted_without_its_value() -> None:
    parsed = parse_input(
        f"curl {URL} --header='Authorization: Bearer hunter2secret' --data='{{\"a\":1}}'"
    )
    assert parsed.url == URL
    assert parsed.header("Authorization") is None and parsed.body is None  # curl rejects them
    assert [n.split(" at ")[0] for n in parsed.notes] == [
        "ignored --header=...",
        "ignored --data=...",
    ]
    assert all("hunter2secret" not in n for n in parsed.notes)


def test_parse_errors_never_carry_an_ignored_value() -> None:
    with pytest.raises(PayloadSyntaxError) as caught:
        parse_input("curl --pass hunter2secret -d '{}'")
    assert "no URL" in caught.value.problem
    assert "hunter2secret" not in str(caught.value)


# --- 5. NaN and infinities are not JSON ---------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "where", "token"),
    [
        ('{"requestId": NaN, "campaignId": "c"}\n', "1:15: ", "NaN"),
        ('{"campaignId": "Infinity",\n "n": -Infinity}\n', "2:7: ", "-Infinity"),
        ('{"campaignId": "c", "n": 1e999}\n', "1:26: ", "1e999"),
        (
            f"curl {URL} \\\n  -d '{{\"requestId\": Infinity}}'\n",
            "2:3: ",
            "Infinity",
        ),
    ],
)
@pytest.mark.parametrize("output", ["text", "json"])
def test_nan_and_infinity_are_input_errors_naming_where(
    text: str, where: str, token: str, output: str, cli: Cli, tmp_path: Path
) -> None:
    code, out, err = check(cli, tmp_path, text, output)
    assert code == 2, out
    assert out == ""
    assert f"c.sh:{where}" in err
    assert f"{token} is not a JSON number" in err
    if text.startswith("curl"):
        assert "(line 1, column 15 of the body)" in err


# --- 6. cmd: cmd.exe's carets first, then the C runtime's split ----------------------------------
def test_a_one_line_chrome_cmd_copy_is_cmd() -> None:
    text = f'curl ^"{URL}^" -H ^"authorization: Bearer abc^" --data-raw ^"^{{^\\^"a^\\^":1^}}^"'
    assert shellwords.dialect_of(text) == "cmd"
    parsed = parse_input(text)
    assert (parsed.url, parsed.header("Authorization"), parsed.body) == (
        URL,
        "Bearer abc",
        {"a": 1},
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a "b^c" d^^e', ["a", "b^c", "d^e"]),  # carets are literal inside cmd's own quotes
        ('"x\\"^&y\\"z"', ['x"&y"z']),  # \" toggles cmd's quote state: ^& is outside it
        ("a^\n\nb", ["a\nb"]),  # caret, line end, line end: one newline in the word
        ("a ^\n  b", ["a", "b"]),  # a continued line
        ('"a""b"', ['a"b']),  # "" inside quotes: one quote (C runtime)
    ],
)
def test_cmd_removes_carets_then_splits_like_the_c_runtime(text: str, expected: list[str]) -> None:
    assert [w.text for w in shellwords.split(text, "cmd") if not w.is_newline] == expected


def test_cmd_text_built_for_a_ticket_reads_back_with_its_special_characters() -> None:
    payload = {"campaignId": "c", "context": {"x": 'a&b|c<d>e^f(g)"h'}}
    text = to_curl(URL, payload, "cmd")
    assert parse_input(text).body == payload


# --- 7. bash's ANSI-C quotes ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"$'a\nb\tc\rd'", "a\nb\tc\rd"),
        (r"$'O\'Brien \"q\" back\\slash'", 'O\'Brien "q" back\\slash'),
        (r"$'\x41\x7e\u00e9\u20ac\101'", "A~é€A"),
        (r"x$'\x27'y", "x'y"),
        (r"$'\q\x'", "\\q\\x"),  # unknown escapes stay as written, as in bash
    ],
)
def test_ansi_c_quotes_decode_like_bash(text: str, expected: str) -> None:
    assert [w.text for w in shellwords.split(text, "posix")] == [expected]


def test_an_unclosed_ansi_c_quote_says_where(cli: Cli, tmp_path: Path) -> None:
    code, out, err = check(cli, tmp_path, f"curl {URL} \\\n  -d $'{{\"a\\'\n", "text")
    assert code == 2
    assert "c.sh:2:6: the ANSI-C quote ($') opened here is never closed" in err
