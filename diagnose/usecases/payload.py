"""The `diagnose payload` use cases: check a campaign's cURL request, and send ONE test call safely.

The sending safety policy lives here: the recipient limit, the audience guard, the
same-host guard, whether a confirmation is needed (the prompt itself is the CLI's),
the ledger of sent ids, and the rule that an unreadable campaign is the tool's
limitation. No printing: progress goes through the `notify` callback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from diagnose.errors import InputError

if TYPE_CHECKING:
    from diagnose.adobe.client import AdobeClient
    from diagnose.payload.assess import Assessment
    from diagnose.payload.document import PayloadReport
    from diagnose.payload.ledger import Ledger
    from diagnose.payload.request import ParsedRequest
    from diagnose.profile import Profile

Confirm = Callable[[str], bool]  # asks a person a yes/no question


@dataclass(frozen=True)
class PayloadInput:
    """The request read from FILE or standard input."""

    parsed: ParsedRequest
    label: str  # for messages: the file name, or <stdin>
    from_stdin: bool


@dataclass(frozen=True)
class SendOptions:
    kind: str | None = None  # --kind, for a bare JSON payload
    yes: bool = False  # consent given up front
    deadline_s: float = 60.0
    max_recipients: int = 1
    allow_audience: bool = False
    profile_host: bool = False  # call the profile's platform even when the cURL names another
    lab: bool = False  # the embedded lab stands in for the cURL's host
    show_values: bool = False  # body values in the output, not only their shape (--show-values)


def _read(source: str) -> tuple[str, Path | None, str]:
    """(text, the folder that also resolves @file bodies, a label for messages)."""
    from diagnose.files import TooLarge, read_limited
    from diagnose.payload.request import MAX_INPUT_BYTES

    if source == "-":
        try:
            data = read_limited(sys.stdin.buffer, MAX_INPUT_BYTES, "<stdin>")
        except TooLarge as exc:
            raise InputError(str(exc)) from None
        base, label = None, "<stdin>"
    else:
        path = Path(source)
        try:
            data = read_limited(path, MAX_INPUT_BYTES, source)
        except TooLarge as exc:
            raise InputError(str(exc)) from None
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


def read_input(source: str) -> PayloadInput:
    """The request of FILE (or `-`, standard input); unreadable input is exit 2, line and column named."""
    from diagnose.payload.curl import PayloadSyntaxError, parse_input
    from diagnose.redact import redact_text

    text, base, label = _read(source)
    try:
        parsed = parse_input(text, base)
    except PayloadSyntaxError as exc:
        where = f"{exc.line}:{exc.column}: " if exc.line is not None else " "
        raise InputError(redact_text(f"{label}:{where}{exc.problem}")) from None
    return PayloadInput(parsed, label, from_stdin=source == "-")


def profile_wanted(config: Path | None, profile_name: str | None, lab: str | None) -> bool:
    """Compare with the campaign when a profile is named, or the environment/cwd provides one."""
    if config or profile_name or lab:
        return True
    env_profile = os.environ.get("DIAGNOSE_ADOBE_CLIENT_ID") and os.environ.get("DIAGNOSE_IMS_ORG")
    return bool(env_profile) or Path("diagnose.toml").is_file()


def _adobe_client(profile: Profile) -> AdobeClient:
    from diagnose.adobe.client import AdobeClient

    return AdobeClient(profile)


# --- check ----------------------------------------------------------------------------------
def shown(report: PayloadReport, request: PayloadInput, show_values: bool) -> PayloadReport:
    """The report as it will be printed: body values as their shape unless --show-values."""
    from diagnose.payload.document import without_values

    return report if show_values else without_values(report, request.parsed)


def check_offline(
    request: PayloadInput, kind: str | None, *, offline: bool, show_values: bool = False
) -> PayloadReport:
    """The payload rules alone; the campaign is not read (`--offline`, or no profile at all)."""
    from diagnose.payload.assess import Assessment
    from diagnose.payload.ledger import Ledger

    assessment = Assessment(request.parsed, request.parsed.kind or kind, request.label, "check")
    assessment.rules(None, Ledger())
    assessment.campaign_note = (
        "not compared (--offline)"
        if offline
        else "not compared: no profile (use --config, --profile or --lab)"
    )
    return shown(assessment.report(), request, show_values)


def check(
    request: PayloadInput,
    kind: str | None,
    profile: Profile,
    *,
    lab: bool,
    show_values: bool = False,
) -> PayloadReport:
    """The payload rules, the comparison with the profile, and with the campaign as it is."""
    from diagnose.payload.assess import Assessment
    from diagnose.payload.ledger import Ledger

    parsed = request.parsed
    assessment = Assessment(
        parsed, parsed.kind or kind or profile.execution_kind, request.label, "check"
    )
    assessment.rules(profile, Ledger(), lab=lab)
    assessment.campaign(profile, _adobe_client(profile))
    return shown(assessment.report(), request, show_values)


# --- send -----------------------------------------------------------------------------------
def guard(parsed: ParsedRequest, kind: str, max_recipients: int, allow_audience: bool) -> None:
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


def same_host(parsed: ParsedRequest, profile: Profile) -> None:
    """Refuse to call another host than the cURL names, unless told to (exit 2)."""
    from diagnose.payload.check import host_differs

    platform = profile.platform_url or "https://platform.adobe.io"
    if host_differs(parsed, platform):
        raise InputError(
            f"the cURL calls {parsed.host} but the profile's platform_url is {platform}: "
            "set DIAGNOSE_PLATFORM_URL (or platform_url) to the host you mean to test, "
            "or pass --profile-host to call the profile's"
        )


def confirmation(request: PayloadInput, kind: str, profile: Profile) -> str:
    """The question a person answers before the call."""
    payload = request.parsed.payload or {}
    recipients = payload.get("recipients") or []
    who = (
        ", ".join(str(r.get("userId")) for r in recipients if isinstance(r, dict)) or "its audience"
    )
    return (
        f"Send ONE real {kind} execution for campaign {payload.get('campaignId')} to {who} "
        f"through {profile.platform_url}?"
    )


def _consent(request: PayloadInput, kind: str, profile: Profile, confirm: Confirm | None) -> None:
    """The call needs --yes, or a yes from a person at a terminal (the payload not piped in)."""
    if confirm is None or request.from_stdin:
        raise InputError(
            "payload send makes a real execution call: pass --yes (no terminal to confirm on)"
        )
    if not confirm(confirmation(request, kind, profile)):
        raise InputError("not sent (not confirmed)")


def send(
    request: PayloadInput,
    options: SendOptions,
    profile: Profile,
    *,
    confirm: Confirm | None,
    notify: Callable[[str], None],
) -> PayloadReport:
    """Check the request, then make ONE execution call with fresh ids, recorded before it leaves.

    Nothing is sent when a problem blocks it; an unreadable campaign does not stop the call;
    a time-out is reported, never resent.
    """
    from diagnose.payload.assess import Assessment
    from diagnose.payload.ledger import Ledger

    parsed = request.parsed
    kind = parsed.kind or options.kind or profile.execution_kind
    if kind is None:
        raise InputError(
            f"{request.label}: cannot tell the execution kind (the URL's path names none): pass --kind"
        )
    guard(parsed, kind, options.max_recipients, options.allow_audience)
    if parsed.url and not options.lab and not options.profile_host:
        same_host(parsed, profile)
    assessment = Assessment(parsed, kind, request.label, "send")
    ledger = Ledger()
    assessment.rules(profile, ledger, lab=options.lab)
    client = _adobe_client(profile)
    assessment.campaign(profile, client)
    assessment.limitation = None  # an unreadable campaign does not stop the call
    if assessment.blocking() or parsed.payload is None:
        return shown(assessment.report(), request, options.show_values)
    if not options.yes:
        _consent(request, kind, profile, confirm)
    notify(f"calling /ajo/im/executions/{kind} (deadline {options.deadline_s:g} s)...")
    _call(assessment, client, kind, options.deadline_s, ledger)
    return shown(assessment.report(), request, options.show_values)


def _call(
    assessment: Assessment, client: AdobeClient, kind: str, deadline_s: float, ledger: Ledger
) -> None:
    from diagnose.adobe.client import AdobeError
    from diagnose.errors import ToolLimitation
    from diagnose.payload.service import LedgerError, send_once

    payload = assessment.parsed.payload or {}
    try:
        outcome = send_once(client, kind, payload, deadline_s, ledger)
    except (AdobeError, ToolLimitation) as exc:
        assessment.limitation = str(exc)
        return
    except LedgerError as exc:
        raise InputError(str(exc)) from None
    assessment.record_call(outcome, deadline_s)
