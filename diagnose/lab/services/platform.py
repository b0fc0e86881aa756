"""Adobe Experience Platform: AJO executions and campaigns, and the BYOK (CMK) configuration.

The gateway checks the IMS token, `x-api-key` and the org header first; executions
then depend on the storage behind AJO (the Cosmos DB account, as observed).
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

from diagnose.lab.derived import covers
from diagnose.lab.jwts import IMS_ISSUER
from diagnose.lab.services.common import Context
from diagnose.lab.services.cosmos import CMK_BLOCKED, rbac_denied_message
from diagnose.lab.transport import Denied, Request, Response, Service

MSG = "https://ns.adobe.com/aep/errors/"
KINDS = ("unitary", "highthroughput", "audience")
ITEM_WRITE = "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/create"
TRIGGER_HOLD_S = 90.0


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"


class Platform(Service):
    name = "platform"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx.state)
        self.ctx = ctx
        self.route("GET", r"/ajo/im/health", self.health)
        self.route("POST", r"/ajo/im/executions/(?P<kind>[^/]+)", self.execute)
        self.route("GET", r"/ajo/im/executions/audience/(?P<eid>[^/]+)", self.audience_status)
        self.route("GET", r"/journey/campaigns/service/campaigns/(?P<cid>[^/]+)", self.campaign)
        self.route(
            "GET", r"/data/infrastructure/manager/byok/app-registration", self.app_registration
        )
        self.route(
            "GET", r"/data/infrastructure/manager/customer/config/(?P<name>[^/]+)", self.byok_config
        )

    # -- shapes ----------------------------------------------------------------------------------
    def error(self, status: int, code: str, message: str, **extra: object) -> Response:
        return Response(status, {"error_code": code, "message": message})

    def msg_error(
        self, status: int, number: str, title: str, detail: str, req: Request, body: object = None
    ) -> Response:
        payload = body if isinstance(body, dict) else {}
        context = {"requestId": req.header("x-request-id") or payload.get("requestId") or None}
        if payload:
            context["campaignId"] = payload.get("campaignId")
        return Response(
            status,
            {
                "type": f"{MSG}MSG-{number}-{status}",
                "title": title,
                "status": status,
                "detail": detail,
                "report": {"additionalContext": context},
            },
        )

    def not_found(self, req: Request) -> Response:
        return self.error(404, "404000", "Resource not found")

    def _gateway(self, req: Request, sandbox: bool = True, token: bool = True) -> None:
        """Experience Platform's gateway: IMS token, API key, org and sandbox headers."""
        adobe = self.world.adobe
        api_key = req.header("x-api-key")
        if token:
            bearer = req.bearer()
            if not bearer:
                raise Denied(self.error(401, "403010", "Oauth token is missing."))
            claims = self.ctx.signer.verify(bearer)
            if claims is None or claims.get("iss") != IMS_ISSUER:
                raise Denied(self.error(401, "401013", "Oauth token is not valid"))
            req.caller_app_id = claims.get("client_id")
            if not api_key:
                raise Denied(self.error(403, "403000", "Api Key is required"))
            if api_key not in (claims.get("client_id"), "acp_provisioning"):
                raise Denied(self.error(403, "403003", "Api Key is invalid"))
        elif not api_key:
            raise Denied(self.error(403, "403000", "Api Key is required"))
        org = req.header("x-gw-ims-org-id")
        if not org:
            raise Denied(self.error(400, "400003", "Missing header x-gw-ims-org-id"))
        if org != adobe.ims_org:
            raise Denied(self.error(403, "403025", "Profile is not valid"))
        if sandbox and not req.header("x-sandbox-name"):
            raise Denied(self.error(400, "400003", "Missing header x-sandbox-name"))
        if sandbox and req.header("x-sandbox-name") != adobe.sandbox:
            raise Denied(
                self.error(403, "403025", f"Sandbox '{req.header('x-sandbox-name')}' is not valid")
            )

    # -- AJO -----------------------------------------------------------------------------------
    def health(self, req: Request) -> Response:
        self._gateway(req, sandbox=False, token=False)
        return Response(200, {"status": "UP"})

    def campaign_json(self) -> dict[str, Any]:
        c = self.world.campaign
        return {
            "id": c.id,
            "name": c.name,
            "status": c.status,
            "liveVersionId": c.live_version_id,
            "type": "api",
            "apiTriggerType": c.api_trigger_type,
            "highThroughput": c.high_throughput,
            "channel": c.channel,
            "schedule": {
                "startDate": _iso(c.start),
                "startDateEnabled": c.start_enabled,
                "endDate": _iso(c.end),
                "endDateEnabled": c.end_enabled,
            },
            "personalization": {
                "profile": ["profile.person.name.firstName"],
                "context": ["context.offerCode"],
            },
            "createdAt": _iso(c.start - 86400),
            "modifiedAt": _iso(c.start - 3600),
        }

    def campaign(self, req: Request, cid: str) -> Response:
        self._gateway(req)
        if cid != self.world.campaign.id:
            return self.msg_error(
                404,
                "000404",
                "Campaign not found",
                f"No campaign with id '{cid}' in this sandbox.",
                req,
            )
        return Response(200, self.campaign_json())

    def _payload_problem(self, kind: str, body: object) -> str | None:
        if not isinstance(body, dict):
            return "The request body must be a JSON object."
        if not isinstance(body.get("campaignId"), str) or not body["campaignId"]:
            return "'campaignId' is required."
        if kind == "audience":
            return None
        if not isinstance(body.get("requestId"), str) or not body["requestId"]:
            return "'requestId' is required."
        recipients = body.get("recipients")
        if not isinstance(recipients, list) or not 1 <= len(recipients) <= 20:
            return "'recipients' must hold between 1 and 20 recipients."
        seen: set[str] = set()
        for i, r in enumerate(recipients):
            if not isinstance(r, dict):
                return f"recipients[{i}] must be an object."
            for field in ("type", "userId", "namespace"):
                if not isinstance(r.get(field), str) or not r[field]:
                    return f"recipients[{i}].{field} is required."
            if r["type"] not in ("aep", "external"):
                return f"recipients[{i}].type must be 'aep' or 'external'."
            if kind == "highthroughput" and r["type"] != "external":
                return f"recipients[{i}].type must be 'external' on the high-throughput endpoint."
            if r["userId"] in seen:
                return f"recipients[{i}].userId '{r['userId']}' is duplicated."
            seen.add(r["userId"])
        return None

    def execute(self, req: Request, kind: str) -> Response:
        self._gateway(req)
        if kind not in KINDS:
            return self.not_found(req)
        try:
            body = req.json()
        except ValueError:
            return self.msg_error(
                400, "000052", "An error has occurred", "The request body is not valid JSON.", req
            )
        if problem := self._payload_problem(kind, body):
            return self.msg_error(400, "000052", "An error has occurred", problem, req, body)
        c = self.world.campaign
        if body["campaignId"] != c.id:
            return self.msg_error(
                400,
                "000061",
                "Campaign not found",
                f"No live campaign with id '{body['campaignId']}'.",
                req,
                body,
            )
        if c.kind != kind:
            return self.msg_error(
                400,
                "000063",
                "Invalid endpoint for campaign",
                f"Campaign '{c.id}' is a {c.kind} campaign; it cannot be executed on /im/executions/{kind}.",
                req,
                body,
            )
        now = time.time()
        if c.status != "live":
            return self.msg_error(
                400,
                "000064",
                "Campaign is not active",
                f"Campaign '{c.id}' is {c.status}, not live.",
                req,
                body,
            )
        if (c.start_enabled and now < c.start) or (c.end_enabled and now > c.end):
            return self.msg_error(
                400,
                "000064",
                "Campaign is not active",
                f"The request is outside the campaign's schedule ({_iso(c.start)} to {_iso(c.end)}).",
                req,
                body,
            )
        request_id = req.header("x-request-id") or str(body.get("requestId") or uuid.uuid4())
        refusal = self._storage_refusal()
        if refusal is not None:
            substatus, message = refusal
            self.state.log_ajo(
                level="ERROR",
                service="ajo-im-execution",
                requestId=request_id,
                campaignId=c.id,
                message="Execution failed: Cosmos DB responded 403 Forbidden"
                + (f" (x-ms-substatus: {substatus})" if substatus is not None else "")
                + f": {message}",
                cosmos={"status": 403, "substatus": substatus, "message": message},
                httpStatus=500,
            )
            return self.msg_error(
                500,
                "000500",
                "Internal Server Error",
                "The request could not be processed.",
                req,
                body,
            )
        execution_id = f"UMA-{random.randint(0, 99_999_999):08d}"
        if kind == "audience":
            with self.state.lock:
                self.state.audience_executions[execution_id] = "Succeeded"
        self.state.log_ajo(
            level="INFO",
            service="ajo-im-execution",
            requestId=request_id,
            campaignId=c.id,
            executionId=execution_id,
            message="Execution accepted",
            httpStatus=202,
        )
        stamp = _iso(now)
        client = req.caller_app_id or ""
        return Response(
            202,
            {
                "executionId": execution_id,
                "requestId": request_id,
                "createdAt": stamp,
                "createdBy": client,
                "modifiedAt": stamp,
                "modifiedBy": client,
            },
            hold_s=self.world.trigger_hold_s,
        )

    def _storage_refusal(self) -> tuple[int | None, str] | None:
        """Why the storage behind AJO refuses it now: (Cosmos sub-status, message), or None."""
        observed = self.state.observed()
        if observed.cmk_code is not None or observed.revoked_without_code:
            return observed.cmk_code, CMK_BLOCKED  # the data plane's 403 (services/cosmos.py)
        caller = self.world.caller_id
        if not covers(list(observed.cosmos_roles.get(caller, ())), [], ITEM_WRITE):
            return 5301, rbac_denied_message(caller, ITEM_WRITE, "/dbs/ajo/colls/messages")
        return None

    def audience_status(self, req: Request, eid: str) -> Response:
        """The status of an audience execution this lab accepted; 404 for any other id."""
        self._gateway(req)
        with self.state.lock:
            status = self.state.audience_executions.get(eid)
        if status is None:
            return self.msg_error(
                404, "000404", "Not Found", f"No audience execution '{eid}'.", req
            )
        return Response(200, {"executionId": eid, "status": status, "targetedProfileCount": 1})

    # -- Experience Platform CMK (BYOK) ----------------------------------------------------------------
    def app_registration(self, req: Request) -> Response:
        self._gateway(req, sandbox=False)
        a = self.world.adobe
        return Response(
            200,
            {
                "applicationId": a.cmk_app_id,
                "name": a.cmk_app_name,
                "applicationRedirectUrl": f"{self.ctx.urls['entra']}/common/oauth2/authorize?response_type=code&client_id={a.cmk_app_id}&redirect_uri=https://www.adobe.com&prompt=admin_consent",
            },
        )

    def byok_config(self, req: Request, name: str) -> Response:
        self._gateway(req, sandbox=False)
        w = self.world
        if w.topology != "adobe" or name != w.adobe.byok_config:
            return self.msg_error(
                404,
                "000404",
                "Config not found",
                f"No configuration '{name}' of type BYOK_CONFIG.",
                req,
            )
        key = w.vault.keys.get(w.key_name)
        version = key.version if key else ""
        return Response(
            200,
            {
                "name": name,
                "type": "BYOK_CONFIG",
                "imsOrgId": w.adobe.ims_org,
                "configData": {
                    "providerType": "AZURE_KEYVAULT",
                    "keyVaultUri": w.vault.url,
                    "keyVaultKeyIdentifier": w.vault.key_uri(w.key_name, version),
                    "keyVersion": version,
                    "keyName": w.key_name,
                },
                "status": self.state.observed().byok_status,
                "createdBy": "admin@contoso.example",
                "createdDate": _iso(time.time() - 90 * 86400),
                "updatedDate": _iso(time.time() - 90 * 86400),
            },
        )

    def is_write(self, req: Request) -> bool:
        return req.method == "POST" and req.path.startswith("/ajo/im/executions")
