"""Remediation as commands that run: the catalogue's lines filled with the values a run read.

A remediation line in `runbooks/*.md` may name fields, `{vault_id}`, `{principal_object_id}`,
... (lower case, the table `FIELDS` below). Three kinds of line, told apart by how they start:

- `az ...`      a command: one line, pasteable as is (never wrapped); the values in it are
                shell-quoted, and it uses the forms that work in every cloud (`--id`, `--ids`,
                `--scope`, or ARM names with `--resource-group` and `--subscription`; never a
                data-plane URL built from a name, such as `--vault-name`);
- `Portal: ...` the same fix in the Azure portal (or why there is none);
- anything else, prose.

Without a run (`runbook show`, `explain`, `payload`) a field reads as a placeholder that names
it, `<ARM id of the vault>`. After a run (`fill`), it holds the value the run read, or a
placeholder that says why it could not be read:
`<object id of the principal that reaches the key: not read (principal.enabled was skipped: …)>`.
Such a placeholder is never quoted, so that a command holding one does not run when pasted.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from diagnose.model import CheckResult, DiagnosisEntry, Status

if TYPE_CHECKING:
    from diagnose.profile import Profile

FIELD = re.compile(r"\{([a-z][a-z0-9_]*)\}")
COMMAND_PREFIX = "az "
PORTAL_PREFIX = "Portal: "
_REASON_MAX = 120


class NotRead(Exception):
    """A value the run did not read; the message says why."""


def is_command(line: str) -> bool:
    """Whether a remediation line is a command to paste (`az ...`)."""
    return line.startswith(COMMAND_PREFIX)


def is_portal(line: str) -> bool:
    return line.startswith(PORTAL_PREFIX)


def commands(lines: Iterable[str]) -> list[str]:
    """The command lines among remediation lines, in order."""
    return [line for line in lines if is_command(line)]


def display_lines(lines: Iterable[str], indent: str = "    ") -> list[str]:
    """Remediation lines for a terminal: prose after an arrow, commands and portal paths under it
    with nothing before them but spaces (a triple-click copies a command that runs)."""
    out = []
    for line in lines:
        prefix = "   " if is_command(line) or is_portal(line) else "-> "
        out.append(f"{indent}{prefix}{line}")
    return out


# -- what a run read ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunValues:
    """The values of one run: its check results, its profile and when it was filled."""

    results: Mapping[str, CheckResult]
    profile: Profile | None
    now: datetime

    def evidence(self, check_id: str, key: str) -> Any:
        """`key` from the check's evidence or its findings' evidence; NotRead says why not."""
        result = self.results.get(check_id)
        if result is None:
            raise NotRead(f"{check_id} did not run")
        for source in (result.evidence, *(f.evidence for f in result.findings)):
            value = source.get(key)
            if value not in (None, "", []):
                return value
        if result.status is Status.SKIP:
            raise NotRead(f"{check_id} was skipped: {result.summary}")
        if result.status is Status.ERROR:
            why = result.limitation.reason if result.limitation else result.summary
            raise NotRead(f"{check_id} could not decide: {why}")
        raise NotRead(f"{check_id} did not record it")

    def setting(self, key: str) -> str:
        """A profile value (file key `key`); NotRead names the key to set."""
        value = self.profile.get(key) if self.profile is not None else None
        if not value:
            raise NotRead(f"the profile has no {key}")
        return value


def _first(run: RunValues, *reads: Callable[[RunValues], Any]) -> Any:
    """The first read that succeeds; else the first one's reason."""
    reasons = []
    for read in reads:
        try:
            return read(run)
        except NotRead as exc:
            reasons.append(str(exc))
    raise NotRead(reasons[0])


_ARM_ID = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/(?P<type>[^/]+/[^/]+)/(?P<name>[^/]+)$",
    re.I,
)


def _arm_part(key: str, rtype: str, part: str) -> Callable[[RunValues], str]:
    """A part (subscription, group, name) of the ARM id in profile key `key`."""

    def read(run: RunValues) -> str:
        match = _ARM_ID.match(run.setting(key).rstrip("/"))
        if match is None or match.group("type").lower() != rtype.lower():
            raise NotRead(f"the profile's {key} is not the ARM id of a {rtype}")
        return match.group(part)

    return read


def _key_uri(run: RunValues) -> tuple[str, str]:
    """(vault URL with a trailing slash, key name) of the profile's key_id."""
    uri = urlsplit(run.setting("key_id"))
    parts = [p for p in uri.path.split("/") if p]
    if uri.scheme != "https" or not uri.netloc or len(parts) not in (2, 3) or parts[0] != "keys":
        raise NotRead("the profile's key_id is not a Key Vault key URI")
    return f"https://{uri.netloc}/", parts[1]


def _key_ops(run: RunValues) -> list[str]:
    ops = [str(o) for o in run.evidence("keyvault.key", "keyOps")]
    lowered = {o.lower() for o in ops}
    return ops + [o for o in ("wrapKey", "unwrapKey") if o.lower() not in lowered]


def _default_identity(run: RunValues) -> str:
    """The `defaultIdentity` value that names the identity that reaches the key, as
    principal.enabled recorded it from its kind (`UserAssignedIdentity=<ARM id>` for a
    user-assigned identity: Graph's `alternativeNames` of a managed identity hold its ARM id)."""
    try:
        return str(run.evidence("principal.enabled", "as_default_identity"))
    except NotRead as exc:
        if str(exc).endswith("did not record it"):
            raise NotRead(
                "principal.enabled could not tell the identity's defaultIdentity form"
            ) from None
        raise


def _identity_part(part: str) -> Callable[[RunValues], str]:
    """A part (subscription, group, name) of the ARM id of the managed identity that reaches the
    key, as principal.enabled recorded it."""

    def read(run: RunValues) -> str:
        resource_id = str(run.evidence("principal.enabled", "resource_id")).rstrip("/")
        match = _ARM_ID.match(resource_id)
        if match is None or match.group("type").lower() != _IDENTITY_TYPE.lower():
            raise NotRead("principal.enabled did not record a user-assigned identity's ARM id")
        return resource_id if part == "id" else match.group(part)

    return read


_IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"


def _utc(moment: datetime) -> str:
    """The form `az keyvault key set-attributes` takes (Y-m-d'T'H:M:S'Z')."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Field:
    what: str  # names the value in a placeholder
    read: Callable[[RunValues], Any]


def _arm_fields(prefix: str, noun: str, key: str, rtype: str) -> dict[str, Field]:
    """`{prefix}_name`, `_group` and `_subscription`: the parts of the ARM id in profile key `key`."""
    return {
        f"{prefix}_name": Field(f"name of {noun}", _arm_part(key, rtype, "name")),
        f"{prefix}_group": Field(f"resource group of {noun}", _arm_part(key, rtype, "group")),
        f"{prefix}_subscription": Field(
            f"subscription of {noun}", _arm_part(key, rtype, "subscription")
        ),
    }


FIELDS: dict[str, Field] = {
    "principal_object_id": Field(
        "object id of the principal that reaches the key",
        lambda run: _first(
            run,
            lambda r: r.evidence("principal.enabled", "object_id"),
            lambda r: r.evidence("roles.keyvault", "object_id"),
        ),
    ),
    "principal_name": Field(
        "name of the principal that reaches the key",
        lambda run: run.evidence("principal.enabled", "display_name"),
    ),
    "principal_app_id": Field(
        "app id of the principal that reaches the key",
        lambda run: _first(
            run,
            lambda r: r.evidence("principal.enabled", "app_id"),
            lambda r: r.setting("principal_app_id"),
        ),
    ),
    "deleted_principal_id": Field(
        "object id of the deleted principal",
        lambda run: run.evidence("principal.enabled", "deleted_object_id"),
    ),
    "default_identity": Field(
        "the identity that holds the key rights, as the account's defaultIdentity names it",
        _default_identity,
    ),
    "identity_id": Field("ARM id of the user-assigned identity", _identity_part("id")),
    "identity_name": Field("name of the user-assigned identity", _identity_part("name")),
    "identity_group": Field(
        "resource group of the user-assigned identity", _identity_part("group")
    ),
    "identity_subscription": Field(
        "subscription of the user-assigned identity", _identity_part("subscription")
    ),
    "graph_url": Field(
        "Microsoft Graph URL",
        lambda run: (
            (run.profile.cloud.graph_url if run.profile else "").rstrip("/")
            or run.setting("graph_url")
        ),
    ),
    "vault_id": Field("ARM id of the vault", lambda run: run.setting("keyvault_id")),
    **_arm_fields("vault", "the vault", "keyvault_id", "Microsoft.KeyVault/vaults"),
    "key_id": Field("URI of the key", lambda run: run.setting("key_id")),
    "key_name": Field("name of the key", lambda run: _key_uri(run)[1]),
    "deleted_key_id": Field(
        "recovery id of the deleted key",
        lambda run: "{}deletedkeys/{}".format(*_key_uri(run)),
    ),
    "key_ops": Field("the key's operations with wrapKey and unwrapKey", _key_ops),
    "expires_next_year": Field("new expiry date", lambda run: _utc(run.now + timedelta(days=365))),
    "now": Field("the date and time now", lambda run: _utc(run.now)),
    "cosmos_id": Field("ARM id of the Cosmos DB account", lambda run: run.setting("cosmos_id")),
    **_arm_fields(
        "cosmos", "the Cosmos DB account", "cosmos_id", "Microsoft.DocumentDB/databaseAccounts"
    ),
    "caller_object_id": Field(
        "object id of the production caller",
        lambda run: run.evidence("roles.cosmos", "caller_object_id"),
    ),
}


def fields_in(line: str) -> list[str]:
    """The field names a template line uses."""
    return FIELD.findall(line)


def unknown_fields(line: str) -> list[str]:
    """The names in a template line that are not fields (the catalogue refuses them)."""
    return [name for name in fields_in(line) if name not in FIELDS]


def generic(line: str) -> str:
    """A template line without a run: each field a placeholder that names it."""
    return FIELD.sub(lambda m: f"<{FIELDS[m.group(1)].what}>", line)


def _usable(value: Any) -> list[str]:
    """The value as words; NotRead for one a command cannot carry (empty, control characters)."""
    words = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    if not words or any(not w or _has_control(w) for w in words):
        raise NotRead("what was read is empty or holds control characters")
    return words


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def _placeholder(name: str, reason: str) -> str:
    reason = " ".join(reason.replace("<", "‹").replace(">", "›").split())
    if len(reason) > _REASON_MAX:
        reason = reason[: _REASON_MAX - 1] + "…"
    return f"<{FIELDS[name].what}: not read ({reason})>"


def render(line: str, run: RunValues) -> str:
    """A template line with the run's values (shell-quoted in a command), or named placeholders."""
    command = is_command(line)

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        try:
            words = _usable(FIELDS[name].read(run))
        except NotRead as exc:
            return _placeholder(name, str(exc))
        return " ".join(shlex.quote(w) for w in words) if command else " ".join(words)

    return FIELD.sub(value, line)


def fill(
    entries: Sequence[DiagnosisEntry],
    results: Iterable[CheckResult],
    profile: Profile | None,
    now: datetime | None = None,
) -> None:
    """Give each diagnosis entry its cause's remediation with the values the run read (in place)."""
    from diagnose import catalogue

    cat = catalogue.default()
    run = RunValues({r.id: r for r in results}, profile, now or datetime.now(UTC))
    for entry in entries:
        cause = cat.causes.get(entry.code)
        if cause is not None:
            entry.remediation = [render(line, run) for line in cause.templates]
