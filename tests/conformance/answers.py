"""Fetch the lab's raw answers, as the tool reads them (its own paths and api-versions)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from diagnose.checks.reads import API
from diagnose.lab import Lab
from tests.lab.sdk import credential, get, token


@dataclass
class Answer:
    what: str
    url: str
    status: int
    body: Any


def arm_token(lab: Lab) -> str:
    """A token for ARM as the diagnosing identity. In the scenario whose diagnoser secret has
    expired, the secret is renewed first, and a scenario's faults (`throttled`) are lifted: they
    stand between the tool and the services, and the answers' shapes do not depend on them."""
    lab.faults.specs.clear()
    with lab.state.write() as world:
        for secret in world.diagnoser.secrets:
            secret.expires = max(secret.expires, time.time() + 3600)
    return token(credential(lab), lab.urls["arm"])


def _arm(lab: Lab, bearer: str, what: str, path: str, api: str, **params: str) -> Answer:
    query = "&".join(f"{k}={v}" for k, v in {"api-version": API[api], **params}.items())
    url = f"{lab.urls['arm']}{path}?{query}"
    reply = get(lab, url, bearer)
    body = reply.json() if reply.content else None
    return Answer(what, url, reply.status_code, body)


def arm_answers(lab: Lab) -> list[Answer]:
    """Every ARM resource the tool reads, in this lab's world, at the tool's api-versions."""
    env = lab.env
    bearer = arm_token(lab)
    vault = env["DIAGNOSE_KEYVAULT_ID"].rstrip("/")
    key_name = env["DIAGNOSE_KEY_ID"].rstrip("/").rsplit("/", 1)[-1]
    cosmos = env.get("DIAGNOSE_COSMOS_ID", lab.world.cosmos.id)
    out = [
        _arm(lab, bearer, "vault", vault, "vault"),
        _arm(lab, bearer, "key", f"{vault}/keys/{key_name}", "key"),
        _arm(lab, bearer, "keys", f"{vault}/keys", "key"),
        _arm(lab, bearer, "cosmos", cosmos, "cosmos"),
        _arm(lab, bearer, "sqlRoleAssignments", f"{cosmos}/sqlRoleAssignments", "cosmos"),
        _arm(lab, bearer, "sqlRoleDefinitions", f"{cosmos}/sqlRoleDefinitions", "cosmos"),
    ]
    for principal in lab.world.principals.values():
        out.append(
            _arm(
                lab,
                bearer,
                "roleAssignments",
                f"{vault}/providers/Microsoft.Authorization/roleAssignments",
                "authorization",
                **{"$filter": f"assignedTo('{principal.object_id}')"},
            )
        )
    definitions = {
        a["properties"]["roleDefinitionId"]
        for answer in out
        if answer.what == "roleAssignments" and answer.status == 200
        for a in answer.body["value"]
    }
    out += [_arm(lab, bearer, "roleDefinition", d, "authorization") for d in sorted(definitions)]
    sql = next((a for a in out if a.what == "sqlRoleDefinitions"), None)
    if sql and sql.status == 200:
        out += [
            _arm(lab, bearer, "sqlRoleDefinition", d["id"], "cosmos") for d in sql.body["value"]
        ]
    account = next(a for a in out if a.what == "cosmos")
    if account.status == 200:
        identities = (account.body.get("identity") or {}).get("userAssignedIdentities") or {}
        out += [_arm(lab, bearer, "identity", i, "identity") for i in identities]
    return out
