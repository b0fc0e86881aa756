"""`diagnose payload check` and `diagnose payload send`: a campaign's cURL request, checked and tried once."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from diagnose.cli.options import open_profile, positive_seconds, profile_options
from diagnose.errors import InputError
from diagnose.render.choose import PAYLOAD, emit, output_option, styler

if TYPE_CHECKING:
    from diagnose.payload.document import PayloadReport

F = TypeVar("F", bound=Callable[..., Any])
KINDS = ("unitary", "highthroughput", "audience")


def _common(func: F) -> F:
    """Options both sub-commands take, in --help order."""
    func = click.option(
        "--show-values",
        is_flag=True,
        help="Show the body's values in the output (secrets stay masked); by default each "
        "value but campaignId and requestId is shown as its shape, e.g. <string, 12 chars>.",
    )(func)
    func = click.option(
        "--fail-on",
        type=click.Choice(["fail", "warn"]),
        default="fail",
        show_default=True,
        help="Lowest severity that makes the exit status 1.",
    )(func)
    func = output_option(PAYLOAD)(func)
    func = click.option(
        "--kind",
        type=click.Choice(KINDS),
        help="Execution kind for a bare JSON payload (a cURL's URL names its own).",
    )(func)
    func = profile_options(func)
    return click.argument("source", metavar="FILE|-")(func)


@click.group(
    epilog="""\b
Examples:
  diagnose payload check curl.sh
  diagnose payload send curl.sh --yes
"""
)
def payload() -> None:
    """Check a campaign's cURL request (or JSON payload); send one safe test call."""


def _finish(ctx: click.Context, report: PayloadReport, output: str, fail_on: str) -> None:
    from diagnose.model import Severity

    emit(PAYLOAD(output)(report, styler(output)))
    ctx.exit(int(report.exit_status(Severity(fail_on))))


# --- check ----------------------------------------------------------------------------------
CHECK_EXAMPLES = """\b
Examples:
  diagnose payload check curl.sh               the rules, and the campaign when a profile is set
  pbpaste | diagnose payload check -           a cURL from the clipboard
  diagnose payload check body.json --kind unitary --offline
  diagnose payload check curl.sh --lab endpoint-mismatch -o json
"""


@payload.command("check", epilog=CHECK_EXAMPLES)
@_common
@click.option(
    "--offline", is_flag=True, help="Do not read the campaign, even when a profile is available."
)
@click.pass_context
def check_command(
    ctx: click.Context,
    source: str,
    config: Path | None,
    profile_name: str | None,
    lab_scenario: str | None,
    kind: str | None,
    output: str,
    fail_on: str,
    show_values: bool,
    offline: bool,
) -> None:
    """Check a cURL request (FILE, or - for standard input) against the execution API's rules
    and, with a profile or --lab, against the campaign itself. Sends nothing.

    Exit 0: no problem at or above --fail-on; 1: problems; 2: input that cannot be
    read (the message names line and column); 3: the campaign could not be read.
    """
    from diagnose.usecases import payload as usecase

    request = usecase.read_input(source)
    if offline or not usecase.profile_wanted(config, profile_name, lab_scenario):
        report = usecase.check_offline(request, kind, offline=offline, show_values=show_values)
        _finish(ctx, report, output, fail_on)
        return
    with open_profile(config, profile_name, lab_scenario) as profile:
        report = usecase.check(
            request, kind, profile, lab=bool(lab_scenario), show_values=show_values
        )
    _finish(ctx, report, output, fail_on)


# --- send -----------------------------------------------------------------------------------
SEND_EXAMPLES = """\b
Examples:
  diagnose payload send curl.sh                asks before the one call
  diagnose payload send curl.sh --yes --deadline 30
  diagnose payload send curl.sh --lab healthy --yes
"""


@payload.command("send", epilog=SEND_EXAMPLES)
@_common
@click.option("--yes", is_flag=True, help="Send without asking (the flag is the consent).")
@click.option(
    "--deadline",
    type=float,
    default=60.0,
    show_default=True,
    callback=positive_seconds,
    metavar="S",
    help="Give up waiting after S seconds (the service's own time-out is 60 s); never resent.",
)
@click.option(
    "--max-recipients",
    type=click.IntRange(1, 20),
    default=1,
    show_default=True,
    metavar="N",
    help="Refuse a payload with more recipients than this (a test call reaches real people).",
)
@click.option(
    "--allow-audience",
    is_flag=True,
    help="Allow an audience execution (it sends to every profile of the campaign's audience).",
)
@click.option(
    "--profile-host",
    is_flag=True,
    help="Call the profile's platform_url even when the cURL names another host.",
)
@click.pass_context
def send_command(
    ctx: click.Context,
    source: str,
    config: Path | None,
    profile_name: str | None,
    lab_scenario: str | None,
    kind: str | None,
    output: str,
    fail_on: str,
    show_values: bool,
    yes: bool,
    deadline: float,
    max_recipients: int,
    allow_audience: bool,
    profile_host: bool,
) -> None:
    """Make ONE real execution call with the payload of FILE (or -): a write, so it needs --yes
    or a confirmation. The call uses the profile's Adobe credential (never the cURL's token),
    fresh requestId and x-request-id, and is never resent, even after a time-out.

    Exit 0: accepted (executionId printed); 1: problems found or the call failed
    (a time-out included); 2: bad input, refused or not confirmed; 3: the tool's own
    credential or reach failed.
    """
    from diagnose.usecases import payload as usecase

    request = usecase.read_input(source)
    options = usecase.SendOptions(
        kind=kind,
        yes=yes,
        deadline_s=deadline,
        max_recipients=max_recipients,
        allow_audience=allow_audience,
        profile_host=profile_host,
        lab=bool(lab_scenario),
        show_values=show_values,
    )
    with open_profile(config, profile_name, lab_scenario) as profile:
        report = usecase.send(
            request,
            options,
            profile,
            confirm=_ask if _interactive() else None,
            notify=lambda line: click.echo(line, err=True),
        )
    _finish(ctx, report, output, fail_on)


def _interactive() -> bool:
    """Whether a person can answer a question on standard input."""
    return sys.stdin.isatty()


def _ask(question: str) -> bool:
    """The person's answer; no answer at all is a refusal to send (Ctrl-C stays an interrupt)."""
    try:
        return click.confirm(question, default=False, err=True)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, EOFError):
            raise InputError("not sent (no answer)") from None
        raise
