"""explain's inputs: random bytes, real log lines mixed with garbage, gzip fragments.

In process: the scan, the correlation and every renderer finish on any bytes (what cannot be
read is a problem in the result, never an exception). Through the real CLI: a clean exit.
"""

from __future__ import annotations

import gzip
import json
import random
from functools import cache
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from diagnose import catalogue
from diagnose.catalogue import Catalogue
from diagnose.render import explanation
from diagnose.render.style import Styler
from diagnose.usecases.explain import explain
from tests.fuzz import FUZZ, FUZZ_CLI, assert_ended_cleanly
from tests.harness import run_cli
from tests.triage import samples

REAL_LINES = sorted({line.encode("utf-8") for lines in samples.SAMPLES.values() for line in lines})
GARBAGE = st.sampled_from(
    [
        b"\x00\x01\x02",
        b"\xff\xfe",
        b"\xfe\xff\x00a",
        b"\xef\xbb\xbf",
        b"\x1f\x8b\x08\x00",
        b"PK\x03\x04",
        b"\x1b]0;pwned\x07",
        "\u202e".encode(),
        b"\r",
        b"\n",
        b"\\u0022client_secret\\u0022",
        b'{"error":{"code":',
        b"x-ms-substatus: ",
        b"AADSTS",
        b"9" * 5000,
    ]
)
CHUNK = st.one_of(st.binary(max_size=64), GARBAGE, st.sampled_from(REAL_LINES))


@cache
def _catalogue() -> Catalogue:
    return catalogue.default()


def explain_all_formats(path: Path) -> None:
    result = explain([str(path)], _catalogue())
    for render in (explanation.render_text, explanation.render_markdown):
        assert isinstance(render(result, Styler(False)), str)
    json.loads(explanation.render_json(result, Styler(False)))


@FUZZ
@given(data=st.binary(max_size=512))
def test_random_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "input.log"
    path.write_bytes(data)
    explain_all_formats(path)


@FUZZ
@given(chunks=st.lists(CHUNK, max_size=12), separator=st.sampled_from([b"\n", b"\r\n", b" ", b""]))
def test_real_lines_mixed_with_garbage(
    tmp_path: Path, chunks: list[bytes], separator: bytes
) -> None:
    path = tmp_path / "input.log"
    path.write_bytes(separator.join(chunks))
    explain_all_formats(path)


@FUZZ
@given(
    chunks=st.lists(CHUNK, min_size=1, max_size=8),
    cut=st.floats(min_value=0, max_value=1),
    flip=st.one_of(st.none(), st.integers(min_value=0, max_value=10_000)),
)
def test_gzip_fragments(tmp_path: Path, chunks: list[bytes], cut: float, flip: int | None) -> None:
    data = bytearray(gzip.compress(b"\n".join(chunks)))
    data = data[: max(2, int(len(data) * cut))]  # a truncated download keeps the magic bytes
    if flip is not None and flip < len(data):
        data[flip] ^= 0x55
    path = tmp_path / "input.log.gz"
    path.write_bytes(bytes(data))
    explain_all_formats(path)


@FUZZ_CLI
@given(chunks=st.lists(CHUNK, max_size=10), gzipped=st.booleans())
def test_through_the_cli(tmp_path: Path, chunks: list[bytes], gzipped: bool) -> None:
    data = b"\n".join(chunks)
    if gzipped:
        data = gzip.compress(data)[: random.Random(len(data)).randint(2, 200)]
    path = tmp_path / "input.log"
    path.write_bytes(data)
    for output in ("text", "json"):
        result = run_cli("explain", str(path), "--output", output)
        assert_ended_cleanly(result)
        if output == "json" and result.exit_code in (0, 1):
            result.json()
