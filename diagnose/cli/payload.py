"""`diagnose payload check` and `diagnose payload send`: a campaign's cURL request, checked and tried once."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from diagnose.cli.options import OUTPUTS, open_profile, profile_options
from diagnose.errors import InputError
from diagnose.exitstatus import ExitStatus

F = TypeVar("F", bound=Callable[..., Any])
KINDS = ("unitary", "highthroughput", "audience")


def _common(func: F) -> F:
    """Options both sub-commands take, in --help order."""
    func = click.option(
        "--fail-on",
        type=click.Choice(["fail", "warn"]),
        default="fail",
        show_default=True,
        help="Lowest severity that makes the exit status 1.",
    )(func)
    func = click.option("--output", type=click.Choice(OUTPUTS), default="text", show_default=True)(
        func
    )
    func = click.option(
        "--kind",
        type=click.Choice(KINDS),
        help="Execution kind for a bare JSON payload (a cURL's URL names its own).",
    )(func)
    func = profile_options(func)
    return click.argument("source", metavar="FILE|-")(func)


@click.group()
def payload() -> None:
    """Check a campaign's cURL request (or JSON payload); send one safe test call."""


# --- shared steps ---------------------------------------------------------------------------
def _read(source: str) -> tuple[str, Path | None, str]:
    """(text, the folder that also resolves @file bodies, a label for messages)."""
    if source == "-":
        data = sys.stdin.buffer.read()
        base, label = None, "<stdin>"
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError(f"{source}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{source}: is a directory, not a file") from None
        except OSError as exc:
            raise InputError(f"{source}: cannot read it ({exc.strerror})") from None
        base, label = path.resolve().parent, source
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{label}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise InputError(f"{label}: empty: expected a cURL command or a JSON payload")
    return text, base, label


def _parse(source: str) -> tuple[Any, str]:
    from diagnose.payload.curl import PayloadSyntaxError, parse_input
    from diagnose.redact import redact_text

    text, base, label = _read(source)
    try:
        return parse_input(text, base), label
    except PayloadSyntaxError as exc:
        where = f"{exc.line}:{exc.column}: " if exc.line is not None else " "
        raise InputError(redact_text(f"{label}:{where}{exc.problem}")) from None


def _profile_wanted(config: Path | None, profile_name: str | None, lab: str | None) -> bool:
    """Compare with the campaign when a profile is named, or the environment/cwd provides one."""
    if config or profile_name or lab:
        return True
    env_profile = os.environ.get("DIAGNOSE_ADOBE_CLIENT_ID") and os.environ.get("DIAGNOSE_IMS_ORG")
    return bool(env_profile) or Path("diagnose.toml").is_file()


def _finish(ctx: click.Context, assessment: Any, output: str, fail_on: str) -> None:
    from diagnose.model import Severity
    from diagnose.render.payload import render
    from diagnose.render.style import Styler, use_colour

    report = assessment.report()
    style = Styler(use_colour(sys.stdout) and output == "text")
    click.echo(render(report, output, style), nl=False)
    threshold = Severity(fail_on).rank
    if any(f.severity.rank >= threshold for _, f in report.findings):
        ctx.exit(int(ExitStatus.FINDINGS))
    if report.limitation:
        ctx.exit(int(ExitStatus.UNDECIDED))
    ctx.exit(int(ExitStatus.OK))


def _adobe_client(profile: Any) -> Any:
    from diagnose.adobe.client import AdobeClient

    return AdobeClient(profile)


# --- check ----------------------------------------------------------------------------------
@payload.command("check")
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
    offline: bool,
) -> None:
    """Check a cURL request (FILE, or - for standard input) against the execution API's rules
    and, with a profile or --lab, against the campaign itself. Sends nothing.

    Exit 0: no problem at or above --fail-on; 1: problems; 2: input that cannot be
    read (the message names line and column); 3: the campaign could not be read.
    """
    from diagnose.payload.assess import Assessment
    from diagnose.payload.ledger import Ledger

    parsed, label = _parse(source)
    ledger = Ledger()
    if offline or not _profile_wanted(config, profile_name, lab_scenario):
        effective_kind = parsed.kind or kind
        assessment = Assessment(parsed, effective_kind, label, "check")
        assessment.rules(None, ledger)
        assessment.campaign_note = (
            "not compared (--offline)"
            if offline
            else "not compared: no profile (use --config, --profile or --lab)"
        )
        _finish(ctx, assessment, output, fail_on)
        return
    with open_profile(config, profile_name, lab_scenario) as profile:
        assessment = Assessment(
            parsed, parsed.kind or kind or profile.execution_kind, label, "check"
        )
        assessment.rules(profile, ledger, lab=bool(lab_scenario))
        assessment.campaign(profile, _adobe_client(profile))
    _finish(ctx, assessment, output, fail_on)


# --- send -----------------------------------------------------------------------------------
def _positive(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if value <= 0:
        raise click.BadParameter("must be a positive number of seconds")
    return value


@payload.command("send")
@_common
@click.option("--yes", is_flag=True, help="Send without asking (the flag is the consent).")
@click.option(
    "--deadline",
    type=float,
    default=60.0,
    show_default=True,
    callback=_positive,
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
    from diagnose.payload.assess import Assessment
    from diagnose.payload.ledger import Ledger

    parsed, label = _parse(source)
    with open_profile(config, profile_name, lab_scenario) as profile:
        effective_kind = parsed.kind or kind or profile.execution_kind
        if effective_kind is None:
            raise InputError(
                f"{label}: cannot tell the execution kind (the URL's path names none): pass --kind"
            )
        _guard(parsed, effective_kind, max_recipients, allow_audience)
        if parsed.url and not lab_scenario and not profile_host:
            _same_host(parsed, profile)
        assessment = Assessment(parsed, effective_kind, label, "send")
        ledger = Ledger()
        assessment.rules(profile, ledger, lab=bool(lab_scenario))
        client = _adobe_client(profile)
        assessment.campaign(profile, client)
        assessment.limitation = None  # an unreadable campaign does not stop the call
        if assessment.blocking() or parsed.payload is None:
            _finish(ctx, assessment, output, fail_on)
            return
        if not yes:
            _confirm(source, parsed, effective_kind, profile)
        _call(assessment, client, effective_kind, deadline, ledger)
    _finish(ctx, assessment, output, fail_on)


def _guard(parsed: Any, kind: str, max_recipients: int, allow_audience: bool) -> None:
    """Refusals that protect real people from a test call (exit 2)."""
    if kind == "audience" and not allow_audience:
        raise InputError(
            "an audience execution sends to every profile of the campaign's audience; "
            "pass --allow-audience if that is really what you want to test"
        )
    payload = parsed.payload or {}
    recipients = payload.get("recipients")
    if isinstance(recipients, list) and len(recipients) > max_recipients:
        raise InputError(
            f"the payload has {len(recipients)} recipients, more than the test limit of "
            f"{max_recipients}: remove some, or pass --max-recipients {min(len(recipients), 20)}"
        )


def _same_host(parsed: Any, profile: Any) -> None:
    from diagnose.payload.check import host_differs

    platform = profile.platform_url or "https://platform.adobe.io"
    if host_differs(parsed, platform):
        raise InputError(
            f"the cURL calls {parsed.host} but the profile's platform_url is {platform}: "
            "set DIAGNOSE_PLATFORM_URL (or platform_url) to the host you mean to test, "
            "or pass --profile-host to call the profile's"
        )


def _interactive() -> bool:
    """Whether a person can answer a question on standard input."""
    return sys.stdin.isatty()


def _confirm(source: str, parsed: Any, kind: str, profile: Any) -> None:
    if source == "-" or not _interactive():
        raise InputError(
            "payload send makes a real execution call: pass --yes (no terminal to confirm on)"
        )
    payload = parsed.payload or {}
    recipients = payload.get("recipients") or []
    who = (
        ", ".join(str(r.get("userId")) for r in recipients if isinstance(r, dict)) or "its audience"
    )
    question = (
        f"Send ONE real {kind} execution for campaign {payload.get('campaignId')} to {who} "
        f"through {profile.platform_url}?"
    )
    try:
        confirmed = click.confirm(question, default=False, err=True)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, EOFError):  # no answer at all; Ctrl-C stays an interrupt
            raise InputError("not sent (no answer)") from None
        raise
    if not confirmed:
        raise InputError("not sent (not confirmed)")


def _call(assessment: Any, client: Any, kind: str, deadline: float, ledger: Any) -> None:
    from diagnose.adobe.client import AdobeError
    from diagnose.errors import ToolLimitation
    from diagnose.payload.service import LedgerError, send_once

    click.echo(f"calling /ajo/im/executions/{kind} (deadline {deadline:g} s)...", err=True)
    try:
        outcome = send_once(client, kind, assessment.parsed.payload, deadline, ledger)
    except (AdobeError, ToolLimitation) as exc:
        assessment.limitation = str(exc)
        return
    except LedgerError as exc:
        raise InputError(str(exc)) from None
    assessment.record_call(outcome, deadline)
