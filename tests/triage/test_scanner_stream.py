"""The streaming scanner gives the same answer however the input is cut into blocks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from diagnose.catalogue import load
from diagnose.triage.scanner import Scanner
from diagnose.triage.signatures import compile_catalogue

from .samples import REVOKED_EN, SAMPLES

SCANNER = Scanner(compile_catalogue(load()))
FILLER = [
    "2026-11-26T01:02:03.000Z INFO [ajo-runtime] request completed status=200 latency_ms=41",
    "    at com.adobe.ajo.Runtime.handle(Runtime.java:42)",
    "",
    '{"timestamp":"2026-11-26T01:02:04Z","level":"DEBUG","msg":"cache hit"}',
]
EVIDENCE = [
    SAMPLES["cosmos.revoked.4000"][0],
    SAMPLES["principal.disabled"][0],
    SAMPLES["keyvault.role-missing"][0],
    # a wrapped message spread over continuation lines
    f"2026-11-26T01:02:05Z ERROR 403 Forbidden {REVOKED_EN[:50]}\n{REVOKED_EN[50:]}",
    # a pasted HTTP response: status line, headers, blank line, body
    "HTTP/1.1 403 Forbidden\nx-ms-substatus: 4002\n\n"
    '{"Errors":["Request is blocked due to Customer Managed Key not being accessible."]}',
]


def scan(data: bytes, cuts: list[int]) -> list[tuple[str, int]]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    return [(m.code, m.line) for m in SCANNER.scan(pieces, "x")]


@settings(max_examples=60, deadline=None)
@given(
    layout=st.lists(
        st.one_of(st.sampled_from(FILLER), st.sampled_from(EVIDENCE)), min_size=1, max_size=40
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=1 << 20), max_size=12),
)
def test_block_boundaries_do_not_change_the_matches(layout: list[str], cuts: list[int]) -> None:
    data = ("\n".join(layout) + "\n").encode()
    whole = scan(data, [])
    assert scan(data, cuts) == whole
    expected = sum(1 for part in layout if part in EVIDENCE)
    assert len(whole) >= (1 if expected else 0)


def test_far_apart_evidence_in_a_large_stream_keeps_its_line_numbers() -> None:
    filler = ("2026-11-26T01:02:03.000Z INFO request completed status=200\n" * 40_000).encode()
    evidence = (SAMPLES["cosmos.revoked.4003"][0] + "\n").encode()
    data = filler + evidence + filler + evidence
    blocks = [data[i : i + 65_536] for i in range(0, len(data), 65_536)]
    found = [(m.code, m.line) for m in SCANNER.scan(blocks, "big")]
    assert found == [("cosmos.revoked.4003", 40_001), ("cosmos.revoked.4003", 80_002)]


@settings(max_examples=100, deadline=None)
@given(
    layout=st.lists(
        st.one_of(st.sampled_from(FILLER), st.sampled_from(EVIDENCE)), min_size=1, max_size=40
    )
)
def test_the_window_around_a_line_holds_the_same_record_as_a_whole_split(
    layout: list[str],
) -> None:
    from diagnose.triage import records

    buf = ("\n".join(layout) + "\n").encode()
    lines = buf.split(b"\n")[:-1]
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    for first, end in records.split(lines):
        if end - first >= records.MAX_LINES:
            continue
        for i in range(first, end):
            if not lines[i].strip():
                continue  # anchors never sit on a blank line
            lo, hi = records.window(buf, starts[i])
            local = buf[lo:hi].split(b"\n")
            if local and local[-1] == b"":
                local.pop()
            base = buf.count(b"\n", 0, lo)
            found = [
                (base + f, base + e) for f, e in records.split(local) if base + f <= i < base + e
            ]
            assert found == [(first, end)], (i, layout)
