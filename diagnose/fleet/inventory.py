"""Find the fleet through Azure Resource Graph: every Cosmos DB account with `keyVaultKeyUri` set,
in the scope the flags name, and the vaults (so each account's vault id is known without a read).

The request and answer follow the 2024-04-01 specification (docs/research/audit-and-inventory-
shapes.md §3): pages of at most 1,000 rows joined by `$skipToken`; each query takes one of the
caller's quota (15 per 5 s), which every answer states in `x-ms-user-quota-remaining` and
`x-ms-user-quota-resets-after`: a spent quota is waited out before the next page, and a 429 is
retried after the reset while the run's time allows. Resource Graph is a snapshot: the accounts'
`customerManagedKeyStatus` is read live from ARM by the checks, never from here.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from diagnose import deadline
from diagnose.answers import Fields, UnexpectedAnswer
from diagnose.errors import InputError

if TYPE_CHECKING:
    from diagnose.azure.rest import Reply, RestClient

MAX_PAGES = 100  # 100,000 accounts
_GROUP = re.compile(r"^[-\w._()]{1,90}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _literal(text: str) -> str:
    """A KQL string literal (single quotes; backslash and quote escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class Scope:
    """What `--subscription`, `--management-group`, `--resource-group` and `--tag` narrow."""

    subscriptions: tuple[str, ...] = ()
    management_groups: tuple[str, ...] = ()
    resource_groups: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for sub in self.subscriptions:
            if not _GUID.match(sub):
                raise InputError(f"--subscription {sub!r} is not a subscription id (a GUID)")
        for group in (*self.management_groups, *self.resource_groups):
            if not _GROUP.match(group):
                raise InputError(f"{group!r} is not a resource or management group name")

    def accounts_query(self) -> str:
        lines = [
            "Resources",
            "| where type =~ 'microsoft.documentdb/databaseaccounts'",
            "| where isnotempty(properties.keyVaultKeyUri)",
        ]
        if self.subscriptions and self.management_groups:
            # the request is scoped to the groups (below); the subscriptions narrow inside them
            subs = ", ".join(_literal(s) for s in self.subscriptions)
            lines.append(f"| where subscriptionId in~ ({subs})")
        if self.resource_groups:
            groups = ", ".join(_literal(g) for g in self.resource_groups)
            lines.append(f"| where resourceGroup in~ ({groups})")
        for key, value in self.tags:
            lines.append(f"| where tostring(tags[{_literal(key)}]) == {_literal(value)}")
        lines += [
            "| project id, name, resourceGroup, subscriptionId, location,"
            " keyVaultKeyUri = tostring(properties.keyVaultKeyUri),"
            " defaultIdentity = tostring(properties.defaultIdentity),"
            " documentEndpoint = tostring(properties.documentEndpoint)",
            "| order by id asc",
        ]
        return "\n".join(lines)

    def request_scope(self) -> dict[str, list[str]]:
        """The query's scope: the management groups when named (the subscriptions, if also
        named, then narrow inside them in the query), else the subscriptions."""
        if self.management_groups:
            return {"managementGroups": list(self.management_groups)}
        if self.subscriptions:
            return {"subscriptions": list(self.subscriptions)}
        return {}  # every subscription the identity can read

    def to_json(self) -> dict[str, Any]:
        return {
            "subscriptions": list(self.subscriptions),
            "management_groups": list(self.management_groups),
            "resource_groups": list(self.resource_groups),
            "tags": {k: v for k, v in self.tags},
        }


VAULTS_QUERY = "\n".join(
    [
        "Resources",
        "| where type =~ 'microsoft.keyvault/vaults'",
        "| project id, vaultUri = tostring(properties.vaultUri)",
        "| order by id asc",
    ]
)


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    subscription_id: str
    resource_group: str
    key_uri: str
    default_identity: str
    endpoint: str


@dataclass
class Inventory:
    accounts: list[Account]
    vaults: dict[str, str]  # vault host (lower case, with port) -> the vault's ARM id
    queries: int = 0
    waited_s: float = 0.0  # time spent waiting for Resource Graph's quota


class QuotaClient:
    """Resource Graph queries through the ARM client, reading its quota headers."""

    def __init__(self, arm: RestClient) -> None:
        self.arm = arm
        self.queries = 0
        self.waited_s = 0.0
        self._wait_until = 0.0

    def _pause(self) -> None:
        wait = self._wait_until - time.monotonic()
        if wait > 0:
            if not deadline.fits(wait):
                raise UnexpectedAnswer(
                    f"Resource Graph throttled the inventory: its quota resets in {wait:.0f} s "
                    "(x-ms-user-quota-resets-after), after the run's --timeout"
                )
            time.sleep(wait)
            self.waited_s += wait

    def query(self, text: str, scope: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Every row of `text` (pages followed); a limitation when Resource Graph cannot answer."""
        rows: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            options: dict[str, Any] = {"resultFormat": "objectArray", "$top": 1000}
            if token:
                options["$skipToken"] = token
            reply = self._ask({"query": text, **scope, "options": options})
            page = reply.fields(
                "the Resource Graph query", "Reader on the subscriptions to inventory"
            )
            rows += [dict(item.raw) for item in page.objects("data")]
            token = page.opt_text("$skipToken")
            if not token:
                return rows
        raise UnexpectedAnswer(f"Resource Graph answered more than {MAX_PAGES} pages")

    def _ask(self, body: dict[str, Any]) -> Reply:
        from diagnose.azure.rest import resource_graph

        while True:
            self._pause()
            reply = resource_graph(self.arm, body)
            self.queries += 1
            resets = _seconds(reply.headers.get("x-ms-user-quota-resets-after"))
            remaining = reply.headers.get("x-ms-user-quota-remaining")
            if reply.status == 429 or (remaining is not None and remaining.strip() == "0"):
                self._wait_until = time.monotonic() + (resets if resets is not None else 1.0)
            if reply.status != 429:
                return reply
            # throttled: come back after the reset, while the run's time allows (else _pause says so)


def _seconds(value: str | None) -> float | None:
    """`hh:mm:ss` as seconds (None when absent or not that form)."""
    m = re.fullmatch(r"\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)\s*", value or "")
    if m is None:
        return None
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


def discover(arm: RestClient, scope: Scope) -> Inventory:
    """The accounts in `scope` and every vault the identity can read (one query each, paged)."""
    client = QuotaClient(arm)
    accounts = [
        _account(Fields(row, "a Resource Graph row"))
        for row in client.query(scope.accounts_query(), scope.request_scope())
    ]
    vaults: dict[str, str] = {}
    for row in client.query(VAULTS_QUERY, {}):
        fields = Fields(row, "a Resource Graph row")
        uri, vault_id = fields.opt_text("vaultUri"), fields.opt_text("id")
        if uri and vault_id:
            vaults[host_of(uri)] = vault_id
    return Inventory(accounts, vaults, client.queries, client.waited_s)


def _account(row: Fields) -> Account:
    rid = row.text("id")
    parts = rid.split("/")
    return Account(
        id=rid,
        name=row.opt_text("name") or parts[-1],
        subscription_id=row.opt_text("subscriptionId") or (parts[2] if len(parts) > 2 else ""),
        resource_group=row.opt_text("resourceGroup") or (parts[4] if len(parts) > 4 else ""),
        key_uri=row.text("keyVaultKeyUri"),
        default_identity=row.opt_text("defaultIdentity") or "",
        endpoint=row.opt_text("documentEndpoint") or "",
    )


def host_of(uri: str) -> str:
    """The host (and port) of a vault or key URI, lower case: how a key finds its vault."""
    from urllib.parse import urlsplit

    return urlsplit(uri).netloc.lower()
