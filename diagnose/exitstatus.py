"""Exit statuses (a contract: pipelines script against them, see docs/design.md), and the one rule that picks one."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from diagnose.model import Severity


class ExitStatus(IntEnum):
    OK = 0  # no finding at or above --fail-on
    FINDINGS = 1  # at least one finding at or above --fail-on
    USAGE = 2  # usage, configuration or unreadable input
    UNDECIDED = 3  # the tool's own access or reach prevented a decision
    INTERRUPTED = 130  # Ctrl-C, after printing whatever was finished


def decide(
    severities: Iterable[Severity], *, undecided: bool, fail_on: Severity | None = None
) -> ExitStatus:
    """The exit status of every command that judges: 1 when a finding reaches `fail_on`
    (default: fail), else 3 when something could not be decided, else 0."""
    from diagnose.model import Severity

    threshold = (fail_on or Severity.FAIL).rank
    if any(s.rank >= threshold for s in severities):
        return ExitStatus.FINDINGS
    if undecided:
        return ExitStatus.UNDECIDED
    return ExitStatus.OK
