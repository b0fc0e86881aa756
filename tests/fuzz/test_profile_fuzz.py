"""The profile loader against random TOML text and random structures serialized to TOML."""

from __future__ import annotations

import contextlib
import json
import math
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from diagnose import profile as profiles
from diagnose.errors import InputError
from tests.fuzz import FUZZ, FUZZ_CLI, assert_ended_cleanly, text_with
from tests.harness import run_cli

KEYS = st.sampled_from(sorted(profiles.KEY_NAMES) + ["profile", "default", "secret", "x y", ""])
TEXT = text_with("[]{}=\".'\\\n#:/@ \t\x1b\u202e", max_size=60)
URLISH = st.sampled_from(
    ["https://[::1/", "https://[::1]:0/", "https://h:99999", "https://", "http://x", "https://a.b/"]
)
SCALAR = st.one_of(
    TEXT,
    URLISH,
    st.integers(),
    st.floats(),  # nan and inf included: TOML writes them as nan, inf, -inf
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


def toml_key(key: str) -> str:
    return toml_value(key)


def toml_value(value: Any) -> str:
    """A TOML inline value (tests only; tomllib reads it back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007F")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def document(top: dict[str, Any]) -> str:
    return "\n".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in top.items()) + "\n"


def load(path: Path) -> None:
    try:
        profiles.load({}, config=path, cwd=path.parent)
    except InputError as exc:
        assert str(exc.message)


@FUZZ
@given(text=TEXT)
def test_random_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "diagnose.toml"
    path.write_text(text, encoding="utf-8")
    load(path)


@FUZZ
@given(
    table=st.dictionaries(KEYS, VALUE, max_size=6),
    wrap=st.sampled_from(["table", "profile", "root", "array"]),
)
def test_random_structures(tmp_path: Path, table: dict[str, Any], wrap: str) -> None:
    top: dict[str, Any] = {
        "table": {"profile": {"default": table}},
        "profile": {"profile": table},
        "root": table,
        "array": {"profile": {"default": [table]}},
    }[wrap]
    path = tmp_path / "diagnose.toml"
    path.write_text(document(top), encoding="utf-8")
    load(path)


@FUZZ
@given(values=st.dictionaries(st.sampled_from(sorted(profiles.KEY_NAMES)), st.one_of(TEXT, URLISH)))
def test_random_values_from_the_environment(values: dict[str, str]) -> None:
    env = {key.variables[0]: values[key.name] for key in profiles.KEYS if key.name in values}
    with contextlib.suppress(InputError):
        profiles.load(env, cwd=Path("/nonexistent"))


@FUZZ_CLI
@given(table=st.dictionaries(KEYS, VALUE, max_size=4))
def test_through_the_cli(tmp_path: Path, table: dict[str, Any]) -> None:
    path = tmp_path / "diagnose.toml"
    path.write_text(document({"profile": {"default": table}}), encoding="utf-8")
    result = run_cli("profile", "show", "--config", str(path), "--output", "json")
    assert_ended_cleanly(result)
    assert result.exit_code in (0, 2), result
