"""Fuzzing every parser with hypothesis: bounded, derandomized examples, so CI is stable.

In process, a parser may raise only its input error (which the CLI turns into exit 2); through
the real CLI, every run ends with an exit status in {0, 1, 2, 3} and no traceback.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.harness import CliResult

# In process: many examples, each a few milliseconds.
FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Through the real CLI: each example starts a process, so fewer.
FUZZ_CLI = settings(FUZZ, max_examples=20)

EXIT_STATUSES = {0, 1, 2, 3}


def assert_ended_cleanly(result: CliResult) -> None:
    """An exit status the CLI documents, and no traceback on either stream."""
    assert result.exit_code in EXIT_STATUSES, result
    assert "Traceback" not in result.output, result


def text_with(specials: str, max_size: int) -> st.SearchStrategy[str]:
    """Text biased towards `specials` (the characters a parser treats apart), any other character
    (no lone surrogates) mixed in."""
    return st.text(
        alphabet=st.one_of(st.sampled_from(specials), st.characters(blacklist_categories=("Cs",))),
        max_size=max_size,
    )
