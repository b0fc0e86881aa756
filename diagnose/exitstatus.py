"""Exit statuses (a contract: pipelines script against them, see DESIGN.md)."""

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0  # no finding at or above --fail-on
    FINDINGS = 1  # at least one finding at or above --fail-on
    USAGE = 2  # usage, configuration or unreadable input
    UNDECIDED = 3  # the tool's own access or reach prevented a decision
    INTERRUPTED = 130  # Ctrl-C, after printing whatever was finished
