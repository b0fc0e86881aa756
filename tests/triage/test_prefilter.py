"""Both prefilter engines find the same lines; neither misses an anchor in any case or position."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnose.catalogue import load
from diagnose.triage.prefilter import Prefilter
from diagnose.triage.signatures import all_anchors, compile_catalogue

pytest.importorskip("hyperscan", reason="no hyperscan wheel on this platform: `re` alone is used")

ANCHORS = all_anchors(compile_catalogue(load()))
HS = Prefilter(ANCHORS, engine="hyperscan")
RE = Prefilter(ANCHORS, engine="re")


def hit_lines(prefilter: Prefilter, data: bytes) -> set[int]:
    return {data.count(b"\n", 0, end) for end in prefilter.hits(data)}


@settings(max_examples=150, deadline=None)
@given(
    parts=st.lists(
        st.one_of(
            st.sampled_from(ANCHORS).map(lambda a: a.upper() if len(a) % 2 else a.title()),
            st.text(alphabet="abc xyz-_0123456789\n", max_size=30),
        ),
        max_size=25,
    )
)
def test_engines_agree_and_are_case_insensitive(parts: list[str]) -> None:
    data = "".join(parts).encode()
    assert hit_lines(HS, data) == hit_lines(RE, data)
    for part in parts:
        if part.lower() in ANCHORS:
            assert HS.hits(data), part


def test_engine_names() -> None:
    assert HS.engine.startswith("hyperscan") and RE.engine == "re"
