"""Exceptions that know their exit status (the CLI turns them into a message, never a traceback)."""

from __future__ import annotations

import click

from diagnose.exitstatus import ExitStatus


class DiagnoseError(click.ClickException):
    """A problem to report in one clear line on stderr."""

    exit_code = int(ExitStatus.USAGE)


class InputError(DiagnoseError):
    """Malformed configuration, arguments or input files (exit 2)."""

    exit_code = int(ExitStatus.USAGE)


class ReachError(DiagnoseError):
    """The tool itself could not reach or was refused by a service (exit 3)."""

    exit_code = int(ExitStatus.UNDECIDED)
