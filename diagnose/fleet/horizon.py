"""`--horizon 30d`: what the sources show will need action inside the horizon.

Today: the current version of each key the fleet uses, when its `exp` falls inside the horizon
and no rotation policy rotates it (ARM's `properties.rotationPolicy.lifetimeActions[].action.type`
`Rotate`, in the key resource the fleet has already read: no extra request; the property is
ARM's, https://learn.microsoft.com/azure/templates/microsoft.keyvault/vaults/keys). Each key is
said once, with the accounts that use it; an answer that is not the key resource (a bare status, a
throttle past the retries, a refusal) is a limitation of the horizon, never a notice.

The dated credentials of two applications, read from Microsoft Graph's application object
(`GET /v1.0/applications(appId='{appId}')`, `passwordCredentials[].endDateTime` and
`keyCredentials[].endDateTime`; learn.microsoft.com/graph/api/application-get, needs
Application.Read.All): the diagnosing identity's own (the app it signs in as, AZURE_CLIENT_ID),
and each application-backed CMK principal's (a service principal of type Application, such as the
multi-tenant application behind `FederatedClientId`), said once with the accounts it serves. A
credential that ends inside the horizon is a notice; one already ended is not (it needs no
warning: it no longer signs in). An application Graph does not hold in this tenant (registered in
another) or a read refused for want of Application.Read.All is a limitation of the horizon, never
a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from diagnose.errors import InputError
from diagnose.model import Severity

if TYPE_CHECKING:
    from diagnose.answers import Fields
    from diagnose.checks.base import Context
    from diagnose.usecases.run import RunReport

_SPAN = re.compile(r"^\s*(\d+)\s*([dh])\s*$", re.I)


def parse(text: str) -> timedelta:
    """`30d`, `12h`: the horizon; InputError naming the value otherwise."""
    m = _SPAN.match(text)
    if m is None or int(m.group(1)) == 0:
        raise InputError(f"--horizon {text!r} is not a number of days or hours (30d, 12h)")
    n = int(m.group(1))
    return timedelta(days=n) if m.group(2).lower() == "d" else timedelta(hours=n)


@dataclass
class Notice:
    """One thing that needs action inside the horizon, and the accounts it concerns."""

    kind: str  # key-expiry | identity-credential-expiry | cmk-principal-credential-expiry
    resource: str
    name: str
    due: datetime
    message: str
    accounts: list[str] = field(default_factory=list)

    @property
    def concerns(self) -> str:
        """Whom it concerns, for a summary line."""
        if self.kind == "identity-credential-expiry":
            return "every run"
        return f"{len(self.accounts)} account(s)"


@dataclass
class Horizon:
    """What the horizon shows: its notices, soonest first, and what it could not read."""

    span: timedelta
    notices: list[Notice] = field(default_factory=list)
    limitations: list[str] = field(default_factory=list)

    def severities(self) -> list[Severity]:
        """What it adds to the exit status: a warning per notice."""
        return [Severity.WARN for _ in self.notices]

    def unread(self, fail_on: Severity) -> bool:
        """Whether what it could not read leaves the run undecided: only under a gate that fails
        on its warnings."""
        return bool(self.limitations) and fail_on is Severity.WARN


def rotates(properties: dict[str, Any]) -> bool:
    policy = properties.get("rotationPolicy")
    actions = policy.get("lifetimeActions") if isinstance(policy, dict) else None
    return any(
        isinstance(a, dict)
        and isinstance(a.get("action"), dict)
        and str(a["action"].get("type", "")).lower() == "rotate"
        for a in (actions if isinstance(actions, list) else [])
    )


def key_expiries(
    shared: Context, reports: list[tuple[str, RunReport]], now: datetime, horizon: timedelta
) -> tuple[list[Notice], list[str]]:
    """Each key whose current version expires inside the horizon with no rotation policy
    (`reports`: (account id, its report)), and each key whose resource could not be read."""
    from diagnose.checks import reads
    from diagnose.checks.keyvault import KEY_READ_RIGHT

    notices: dict[str, Notice] = {}
    looked: set[str] = set()  # keys whose resource was asked for, once each
    limits: list[str] = []
    for account, report in reports:
        check = next((c for c in report.checks if c.id == "keyvault.key"), None)
        if check is None or not check.evidence.get("exp"):
            continue
        due = datetime.fromisoformat(str(check.evidence["exp"]))
        if not now <= due <= now + horizon:
            continue
        profile = report.profile
        key_id = (profile.key_id or "").lower()
        if key_id not in looked:
            looked.add(key_id)
            name = str(check.evidence.get("key") or key_id.rsplit("/", 1)[-1])
            arm_id = f"{(profile.keyvault_id or '').rstrip('/')}/keys/{name}"
            what = f"the key {name}"
            try:  # the read keyvault.key made, from the fleet's store
                found = reads.arm_resource(shared, arm_id, "key", what, KEY_READ_RIGHT)
            except Exception as exc:  # noqa: BLE001 - whatever it is, the horizon could not read it
                right = getattr(exc, "permission", None)
                needs = f" (needs {right})" if right else ""
                limits.append(f"the rotation policy of {what} was not read: {exc}{needs}")
                continue
            if found is None:  # ARM said it does not exist: keyvault.key says so
                continue
            properties = found.raw.get("properties")
            if rotates(properties if isinstance(properties, dict) else {}):
                continue
            notices[key_id] = Notice(
                "key-expiry",
                profile.key_id or key_id,
                name,
                due,
                f"the key {name} of {arm_id.split('/keys/')[0].rsplit('/', 1)[-1]} expires on "
                f"{due:%Y-%m-%d %H:%M} UTC and no rotation policy rotates it",
            )
        if key_id in notices:
            notices[key_id].accounts.append(account)
    return sorted(notices.values(), key=lambda n: n.due), limits


APP_FIELDS = "id,appId,displayName,passwordCredentials,keyCredentials"


def _application(shared: Context, app_id: str, whose: str) -> Fields | str:
    """The application object of `app_id`, or why the horizon could not read it."""
    from urllib.parse import quote

    from diagnose.azure.rest import GRAPH_NOT_FOUND
    from diagnose.checks import reads
    from diagnose.errors import ToolLimitation

    what = f"the application of {whose} (app {app_id})"
    path = f"/v1.0/applications(appId='{quote(app_id, safe='')}')"
    try:
        reply = reads.graph_get(shared, path, what, {"$select": APP_FIELDS})
        found = reply.resource(what, GRAPH_NOT_FOUND, reads.GRAPH_READ)
    except ToolLimitation as exc:
        needs = f" (needs {exc.permission})" if exc.permission else ""
        return f"{exc}{needs}"
    if found is None:
        return (
            f"Graph holds no application object for {whose} (app {app_id}) in this tenant: "
            "an application registered in another tenant keeps its credentials there"
        )
    return found


def _credentials(app: Fields) -> list[tuple[str, str, datetime, str | None]]:
    """(kind, name, end, hint) of each dated credential of an application object."""
    out = []
    for field_name, kind in (("passwordCredentials", "secret"), ("keyCredentials", "certificate")):
        for cred in app.opt_objects(field_name):
            end = cred.opt_text("endDateTime")
            if not end:
                continue
            try:
                due = datetime.fromisoformat(end)
            except ValueError:
                raise cred.malformed("endDateTime", f"{end!r} is not a date") from None
            name = cred.opt_text("displayName") or cred.opt_text("keyId") or kind
            hint = cred.opt_text("hint") if kind == "secret" else None
            out.append((kind, name, due, hint))
    return out


def _due(
    app: Fields, now: datetime, horizon: timedelta
) -> list[tuple[str, str, datetime, str | None]]:
    return [c for c in _credentials(app) if now <= c[2] <= now + horizon]


def identity_credentials(
    shared: Context, now: datetime, horizon: timedelta
) -> tuple[list[Notice], list[str]]:
    """The diagnosing identity's own secrets and certificates that end inside the horizon."""
    from diagnose.errors import ToolLimitation

    creds = shared.profile.credentials
    app_id = creds.get("AZURE_CLIENT_ID")
    if not app_id:
        return [], [
            "the diagnosing identity's own credentials were not looked at: it signs in without "
            "an application (AZURE_CLIENT_ID) whose credentials Graph dates"
        ]
    app = _application(shared, app_id, "the diagnosing identity")
    if isinstance(app, str):
        return [], [app]
    name = app.opt_text("displayName") or app_id
    secret = creds.get("AZURE_CLIENT_SECRET") or ""
    notices = []
    try:
        due = _due(app, now, horizon)
    except ToolLimitation as exc:
        return [], [str(exc)]
    for kind, cred, end, hint in due:
        used = " (the one this run signs in with)" if hint and secret.startswith(hint) else ""
        notices.append(
            Notice(
                "identity-credential-expiry",
                app_id,
                cred,
                end,
                f"the diagnosing identity {name}'s {kind} {cred}{used} ends on "
                f"{end:%Y-%m-%d %H:%M} UTC",
            )
        )
    return notices, []


def cmk_principal_credentials(
    shared: Context, reports: list[tuple[str, RunReport]], now: datetime, horizon: timedelta
) -> tuple[list[Notice], list[str]]:
    """Each application-backed CMK principal's credentials that end inside the horizon, said once
    with the accounts it serves (`reports`: (account id, its report))."""
    from diagnose.errors import ToolLimitation

    served: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for account, report in reports:
        check = next((c for c in report.checks if c.id == "principal.enabled"), None)
        evidence = check.evidence if check else {}
        app_id = str(evidence.get("app_id") or "")
        if app_id and str(evidence.get("type") or "").lower() == "application":
            served.setdefault(app_id.lower(), []).append(account)
            names.setdefault(app_id.lower(), str(evidence.get("display_name") or app_id))
    notices: list[Notice] = []
    limits: list[str] = []
    for app_id, accounts in served.items():
        whose = f"the CMK principal {names[app_id]}"
        app = _application(shared, app_id, whose)
        if isinstance(app, str):
            limits.append(app)
            continue
        try:
            due = _due(app, now, horizon)
        except ToolLimitation as exc:
            limits.append(str(exc))
            continue
        for kind, cred, end, _hint in due:
            notices.append(
                Notice(
                    "cmk-principal-credential-expiry",
                    app.opt_text("appId") or app_id,
                    cred,
                    end,
                    f"{whose}'s {kind} {cred} ends on {end:%Y-%m-%d %H:%M} UTC",
                    list(accounts),
                )
            )
    return notices, limits


def look_ahead(
    shared: Context, reports: list[tuple[str, RunReport]], now: datetime, span: timedelta
) -> Horizon:
    """The whole horizon: the keys' notices, then the credentials' of both applications."""
    keys, key_limits = key_expiries(shared, reports, now, span)
    own, own_limits = identity_credentials(shared, now, span)
    cmk, cmk_limits = cmk_principal_credentials(shared, reports, now, span)
    notices = sorted([*keys, *own, *cmk], key=lambda n: n.due)
    return Horizon(span, notices, key_limits + own_limits + cmk_limits)
