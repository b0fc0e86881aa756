"""The tool's exceptions: each knows its exit status, and the CLI prints it in one line, never a traceback.

Two kinds, and only two:
- `InputError` (exit 2): malformed configuration, arguments or input files.
- `ToolLimitation` (exit 3): the tool could not decide because of its own access or reach
  (its credential refused, a right it lacks, an endpoint it cannot reach). Wherever it comes
  from (Azure, Adobe, a PostgreSQL server), it is this one type: a check that raises it reports
  `error` with the reason, and nothing is blamed on the customer's setup.
"""

from __future__ import annotations

import click

from diagnose.exitstatus import ExitStatus


class DiagnoseError(click.ClickException):
    """A problem to report in one clear line on stderr."""

    exit_code = int(ExitStatus.USAGE)


class InputError(DiagnoseError):
    """Malformed configuration, arguments or input files (exit 2)."""

    exit_code = int(ExitStatus.USAGE)


class ToolLimitation(DiagnoseError):
    """The diagnosing identity or the machine running the tool could not do what is needed (exit 3).

    `permission` names the right the diagnosing identity lacks, when that is the reason.
    """

    exit_code = int(ExitStatus.UNDECIDED)

    def __init__(self, reason: str, permission: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permission = permission

    def __str__(self) -> str:
        return self.reason


class CredentialRefused(ToolLimitation):
    """Entra ID (or Adobe IMS) refused the tool's own credential, or none is configured."""


class NotPermitted(ToolLimitation):
    """The diagnosing identity lacks a right the work needs."""


class Unreachable(ToolLimitation):
    """An endpoint could not be reached, or did not answer, within its deadline."""
