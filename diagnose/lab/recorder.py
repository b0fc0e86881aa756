"""The transport's hook that records what the lab receives (docs/lab.md "History").

Every write through Graph becomes a directoryAudit, every write through ARM an Activity Log
operation and, when a resource's properties changed, a `resourcechanges` row; every Key
Vault request an AZKVAuditLogs row and every Cosmos DB data-plane request a
CDBDataPlaneRequests row. Diffs come from a snapshot of the world before and after the
handler ran.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from diagnose.lab.history import Actor, History, actor_of
from diagnose.lab.transport import Request, Response
from diagnose.lab.world import World

Snapshot = dict[str, dict[str, Any]]
_WRITES = ("PUT", "PATCH", "POST", "DELETE")
_KEY_OPERATION = re.compile(r"^/keys/[^/]+(?:/[^/]*)?(?:/(?P<op>wrapkey|unwrapkey))?/?$", re.I)


def snapshot(world: World) -> Snapshot:
    """The properties a change record names, per object: ARM ids (lower case) and `sp:<oid>`."""
    out: Snapshot = {}
    for p in world.principals.values():
        out[f"sp:{p.object_id}"] = {
            "AccountEnabled": p.enabled,
            "DisplayName": p.display_name,
            "deleted": p.deleted,
        }
    v = world.vault
    if not v.deleted:
        out[v.id.lower()] = {
            "properties.networkAcls.defaultAction": v.default_action,
            "properties.networkAcls.bypass": v.bypass,
            "properties.networkAcls.ipRules": json.dumps(v.ip_rules),
            "properties.enablePurgeProtection": v.purge_protection,
            "properties.enableSoftDelete": v.soft_delete,
            "properties.enableRbacAuthorization": v.rbac,
        }
        for name, key in v.keys.items():
            if not key.deleted:
                out[f"{v.id}/keys/{name}".lower()] = {
                    "properties.attributes.enabled": key.enabled,
                    "properties.attributes.exp": key.exp,
                    "properties.attributes.nbf": key.nbf,
                }
    c = world.cosmos
    out[c.id.lower()] = {
        "properties.defaultIdentity": c.default_identity,
        "properties.keyVaultKeyUri": c.key_uri,
    }
    for a in c.sql_role_assignments:
        out[f"{c.id}/sqlRoleAssignments/{a.guid}".lower()] = {
            "properties.roleDefinitionId": a.role,
            "properties.principalId": a.principal_id,
        }
    return out


def _arm_type(resource_id: str) -> str:
    """`Microsoft.KeyVault/vaults/keys` from `/subscriptions/../providers/Microsoft.KeyVault/vaults/v/keys/k`."""
    tail = re.split(r"/providers/", resource_id, flags=re.I)[-1].split("/")
    if len(tail) < 2:
        return "Microsoft.Resources/resourceGroups"
    return "/".join([tail[0], *tail[1::2]])


class Recorder:
    """`Endpoint.observe`: runs the handler and records what it did."""

    def __init__(self, history: History, lock: Any) -> None:
        self.history = history
        self.lock = lock  # the lab state's lock: the snapshot and the write are one step

    @property
    def world(self) -> World:
        return self.history.world

    def __call__(
        self, service: str, req: Request, handle: Callable[[Request], Response]
    ) -> Response:
        if service in ("graph", "arm") and req.method in _WRITES:
            with self.lock:
                before = snapshot(self.world)
                resp = handle(req)
                after = snapshot(self.world)
            self._write(service, req, resp, before, after)
            return resp
        resp = handle(req)
        if service == "vault":
            self._key_vault(req, resp)
        elif service == "cosmos":
            self._cosmos(req, resp)
        return resp

    def _actor(self, req: Request) -> Actor | None:
        return actor_of(self.world, req.caller_app_id)

    def _write(
        self, service: str, req: Request, resp: Response, before: Snapshot, after: Snapshot
    ) -> None:
        actor = self._actor(req)
        if actor is None:  # not authenticated: no service records it
            return
        now = datetime.now(UTC)
        if service == "graph":
            self._audits(now, actor, before, after)
            return
        if "/providers/microsoft.resourcegraph/" in req.path.lower():
            return  # a Resource Graph query is a POST, not a write
        rid = req.path.rstrip("/")
        verb = "delete" if req.method == "DELETE" else "write"
        self.history.operation(now, f"{_arm_type(rid)}/{verb}", rid, actor, resp.status)
        for oid in sorted(set(before) | set(after)):
            if oid.startswith("sp:") or before.get(oid) == after.get(oid):
                continue
            rtype = _arm_type(oid)
            operation = f"{rtype}/{verb}"
            if oid not in after:
                self.history.change(now, oid, rtype, "Delete", actor, operation, client="diagnose")
            elif oid not in before:
                self.history.change(now, oid, rtype, "Create", actor, operation, client="diagnose")
            else:
                diff = {
                    k: (before[oid].get(k), v)
                    for k, v in after[oid].items()
                    if before[oid].get(k) != v
                }
                self.history.change(
                    now, oid, rtype, "Update", actor, operation, diff, client="diagnose"
                )

    def _audits(self, now: datetime, actor: Actor, before: Snapshot, after: Snapshot) -> None:
        for oid in sorted(set(before) & set(after)):
            old, new = before[oid], after[oid]
            if not oid.startswith("sp:") or old == new:
                continue
            target = oid[3:]
            if old["deleted"] and not new["deleted"]:
                self.history.audit(
                    now, "Restore service principal", actor, target, new["DisplayName"]
                )
                continue
            modified = [
                (name, _graph_value(old[name]), _graph_value(new[name]))
                for name in ("AccountEnabled", "DisplayName")
                if old[name] != new[name]
            ]
            if modified:
                self.history.audit(
                    now, "Update service principal", actor, target, new["DisplayName"], modified
                )

    def _key_vault(self, req: Request, resp: Response) -> None:
        actor = self._actor(req)
        match = _KEY_OPERATION.match(req.path)
        if actor is None or match is None:
            return
        op = (match.group("op") or "").lower()
        name = {"wrapkey": "KeyWrap", "unwrapkey": "KeyUnwrap"}.get(op) or (
            "KeyUpdate" if req.method == "PATCH" else "KeyGet"
        )
        uri = req.base_url + (req.path[: -len(op) - 1] if op else req.path).rstrip("/")
        message = ""
        if isinstance(resp.body, dict) and isinstance(resp.body.get("error"), dict):
            message = str(resp.body["error"].get("message", ""))
        self.history.key_vault_log(
            datetime.now(UTC),
            name,
            resp.status,
            actor,
            uri,
            message,
            rbac=resp.status != 403 or None,
            client="diagnose",
        )

    def _cosmos(self, req: Request, resp: Response) -> None:
        actor = self._actor(req)
        if actor is None:
            return
        parts = [p for p in req.path.split("/") if p]
        if not parts:
            operation, kind = "Read", "DatabaseAccount"
        elif parts == ["dbs"]:
            operation, kind = ("Query" if req.method == "POST" else "ReadFeed"), "Database"
        else:
            operation, kind = (
                ("ReadFeed" if len(parts) % 2 else "Read"),
                ("Collection" if "colls" in parts else "Database"),
            )
        self.history.cosmos_log(datetime.now(UTC), operation, resp.status, actor.object_id, kind)


def _graph_value(value: Any) -> str:
    """Graph's audit encoding of a property value: a JSON array in a string (`"[true]"`)."""
    return json.dumps([value])
