"""Cosmos DB data plane: the account read and databases, AAD tokens only, CMK and RBAC refusals."""

from __future__ import annotations

import time
import urllib.parse
import uuid
from typing import Any

from diagnose.lab.derived import covers
from diagnose.lab.services.common import AzureService, Context
from diagnose.lab.transport import Denied, Request, Response

READ_METADATA = "Microsoft.DocumentDB/databaseAccounts/readMetadata"
# The data plane's refusal of a revoked account: this sentence alone in `Errors`, the reason only in
# the `x-ms-substatus` header ("Cross Tenant CMK Troubleshooting Guide" 2.1,
# https://learn.microsoft.com/azure/cosmos-db/troubleshoot-cmk; docs/research/published-behaviour.md 6).
CMK_BLOCKED = "Request is blocked due to Customer Managed Key not being accessible."


def rbac_denied_message(object_id: str, action: str = READ_METADATA, resource: str = "/") -> str:
    return (
        f"Request is blocked because principal [{object_id}] does not have required RBAC "
        f"permissions to perform action [{action}] on resource [{resource}]. "
        "Learn more: https://aka.ms/cosmos-native-rbac."
    )


def _allowed(actions: tuple[str, ...], action: str) -> bool:
    return covers(list(actions), [], action)


class Cosmos(AzureService):
    name = "cosmos"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.route("GET", r"/", self.account)
        self.route("GET", r"/dbs", self.list_dbs)
        self.route("POST", r"/dbs", self.post_dbs)
        self.route("GET", r"/dbs/(?P<db>[^/]+)", self.get_db)
        self.route("DELETE", r"/dbs/(?P<db>[^/]+)", self.management)
        self.route("GET", r"/dbs/(?P<db>[^/]+)/colls", self.list_colls)

    # -- shapes --------------------------------------------------------------------------------
    def error(self, status: int, code: str, message: str, **extra: object) -> Response:
        substatus = extra.pop("substatus", 0)
        activity = str(uuid.uuid4())
        text = f'Message: {{"Errors":["{message}"]}}\r\nActivityId: {activity}, Microsoft.Azure.Documents.Common/2.14.0'
        headers = {"x-ms-activity-id": activity, "x-ms-substatus": str(substatus)}
        return Response(status, {"code": code, "message": text}, headers)

    def not_found(self, req: Request) -> Response:
        return self.error(
            404, "NotFound", "Resource Not Found. Learn more: https://aka.ms/cosmosdb-tsg-not-found"
        )

    def unauthenticated(self, req: Request, reason: str) -> Response:
        if reason == "missing":
            return self.error(
                401,
                "Unauthorized",
                "Required Header authorization is missing. Ensure a valid Authorization token is passed.",
            )
        if reason.startswith("audience:"):
            return self.error(
                401,
                "Unauthorized",
                f"Failed to validate AAD token: the audience '{reason.split(':', 1)[1]}' is not valid for this account.",
                substatus=5008,
            )
        if reason == "master":
            return self.error(
                401,
                "Unauthorized",
                "Local Authorization is disabled. Use an AAD token to authorize all requests.",
                substatus=5202,
            )
        return self.error(
            401,
            "Unauthorized",
            "Failed to validate AAD token: the token is expired or its signature is invalid.",
            substatus=5006,
        )

    def token_of(self, req: Request) -> str | None:
        raw = urllib.parse.unquote(req.header("authorization"))
        fields = dict(part.split("=", 1) for part in raw.split("&") if "=" in part)
        if fields.get("type", "").lower() == "master":
            raise Denied(self.unauthenticated(req, "master"))
        if fields.get("type", "").lower() != "aad":
            return None
        return fields.get("sig") or None

    def _gate(self, req: Request, action: str = READ_METADATA) -> dict[str, Any]:
        """Token, then the account's CMK state, then the caller's data-plane role."""
        claims = self.authenticate(req)
        observed = self.state.observed()
        if observed.cmk_code is not None or observed.revoked_without_code:
            # without a code (cmk-status-uncoded), x-ms-substatus 0 (*lab's choice*)
            raise Denied(
                self.error(403, "Forbidden", CMK_BLOCKED, substatus=observed.cmk_code or 0)
            )
        oid = str(claims.get("oid"))
        if not _allowed(observed.cosmos_roles.get(oid, ()), action):
            raise Denied(
                self.error(403, "Forbidden", rbac_denied_message(oid, action), substatus=5301)
            )
        return claims

    def _ok(self, body: dict[str, Any], count: int | None = None) -> Response:
        headers = {
            "x-ms-activity-id": str(uuid.uuid4()),
            "x-ms-request-charge": "1",
            "x-ms-session-token": "0:-1#1",
        }
        if count is not None:
            headers["x-ms-item-count"] = str(count)
        return Response(200, body, headers)

    # -- answers ---------------------------------------------------------------------------------
    def account(self, req: Request) -> Response:
        self._gate(req)
        c = self.world.cosmos
        location = [{"name": "West Europe", "databaseAccountEndpoint": c.endpoint}]
        return self._ok(
            {
                "_self": "",
                "id": c.name,
                "_rid": urllib.parse.urlsplit(c.endpoint).hostname,
                "media": "//media/",
                "addresses": "//addresses/",
                "_dbs": "//dbs/",
                "writableLocations": location,
                "readableLocations": location,
                "enableMultipleWriteLocations": False,
                "continuousBackupEnabled": False,
                "enableNRegionSynchronousCommit": False,
                "userReplicationPolicy": {
                    "asyncReplication": False,
                    "minReplicaSetSize": 3,
                    "maxReplicasetSize": 4,
                },
                "userConsistencyPolicy": {"defaultConsistencyLevel": "Session"},
                "systemReplicationPolicy": {"minReplicaSetSize": 3, "maxReplicasetSize": 4},
                "readPolicy": {"primaryReadCoefficient": 1, "secondaryReadCoefficient": 1},
                "queryEngineConfiguration": "{}",
            }
        )

    def _db_json(self, name: str) -> dict[str, Any]:
        rid = uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:8]
        return {
            "id": name,
            "_rid": f"{rid}==",
            "_self": f"dbs/{rid}==/",
            "_etag": '"00000000-0000-0000-0000-000000000000"',
            "_colls": "colls/",
            "_users": "users/",
            "_ts": int(time.time()) - 86400,
        }

    def list_dbs(self, req: Request) -> Response:
        self._gate(req)
        dbs = [self._db_json(d) for d in self.world.cosmos.databases]
        return self._ok({"_rid": "", "Databases": dbs, "_count": len(dbs)}, len(dbs))

    def post_dbs(self, req: Request) -> Response:
        if req.header("x-ms-documentdb-isquery").lower() == "true":
            return self.list_dbs(req)
        return self.management(req)

    def management(self, req: Request, db: str | None = None) -> Response:
        """Creating or deleting databases with an AAD token is a management operation: refused."""
        self._gate(req)
        return self.error(
            403,
            "Forbidden",
            "Request blocked by Auth: the given request cannot be authorized by AAD token in data plane. Learn more: https://aka.ms/cosmos-native-rbac.",
            substatus=5300,
        )

    def get_db(self, req: Request, db: str) -> Response:
        self._gate(req)
        if db not in self.world.cosmos.databases:
            return self.not_found(req)
        return self._ok(self._db_json(db))

    def list_colls(self, req: Request, db: str) -> Response:
        self._gate(req)
        if db not in self.world.cosmos.databases:
            return self.not_found(req)
        return self._ok({"_rid": "", "DocumentCollections": [], "_count": 0}, 0)

    def is_write(self, req: Request) -> bool:
        if req.method == "POST" and req.header("x-ms-documentdb-isquery").lower() == "true":
            return False
        return req.method in ("POST", "PUT", "DELETE")
