"""Real SDK clients and plain HTTPS against a lab, as a customer's script would build them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import requests

from diagnose.lab import Lab

StartLab = Callable[..., Lab]  # the `faulty` fixture (tests/lab/conftest.py)


def credential(lab: Lab, client_id: str | None = None, secret: str | None = None, **kwargs: Any):
    """azure-identity's ClientSecretCredential pointed at the lab's Entra ID (custom authority)."""
    from azure.identity import ClientSecretCredential

    env = lab.env
    return ClientSecretCredential(
        env["AZURE_TENANT_ID"],
        client_id or env["AZURE_CLIENT_ID"],
        secret or env["AZURE_CLIENT_SECRET"],
        authority=env["AZURE_AUTHORITY_HOST"],
        disable_instance_discovery=True,
        connection_verify=lab.ca_bundle,
        retry_total=0,
        **kwargs,
    )


def caller_credential(lab: Lab):
    """The production caller's credential (AJO's runtime app), read from the world."""
    caller = lab.world.principals[lab.world.caller_id]
    return credential(lab, caller.app_id, caller.secrets[0].value)


def admin_credential(lab: Lab):
    """The lab's admin identity's credential (the engineer who runs the printed fixes)."""
    admin = lab.world.admin
    return credential(lab, admin.app_id, admin.secrets[0].value)


def token(cred: Any, resource: str) -> str:
    return cred.get_token(resource.rstrip("/") + "/.default").token


def get(lab: Lab, url: str, bearer: str | None = None, **kwargs: Any) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    return requests.get(url, headers=headers, verify=lab.ca_bundle, timeout=10, **kwargs)


def send(
    lab: Lab, method: str, url: str, bearer: str | None = None, **kwargs: Any
) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    return requests.request(
        method, url, headers=headers, verify=lab.ca_bundle, timeout=10, **kwargs
    )


def arm_api_version(path: str) -> str:
    """An api-version ARM accepts for the type at `path`: the tool's own where it reads that type,
    else the newest the specification publishes (2024-11-15 for types the lab does not serve)."""
    from diagnose.checks.reads import API
    from diagnose.lab.services.api_versions import published, resource_type

    versions = published().get((resource_type(path) or "").lower(), [])
    tools = [v for v in API.values() if v in versions]
    return tools[0] if tools else (versions[-1] if versions else "2024-11-15")


def arm(
    lab: Lab, path: str, bearer: str, api_version: str | None = None, **kwargs: Any
) -> requests.Response:
    api_version = api_version or arm_api_version(path)
    sep = "&" if "?" in path else "?"
    return get(lab, f"{lab.urls['arm']}{path}{sep}api-version={api_version}", bearer, **kwargs)


def key_client(lab: Lab, cred: Any):
    from azure.keyvault.keys import KeyClient

    return KeyClient(
        lab.env["DIAGNOSE_KEYVAULT_URL"],
        cred,
        verify_challenge_resource=False,
        connection_verify=lab.ca_bundle,
        retry_total=0,
    )


def cosmos_client(lab: Lab, cred: Any):
    """CosmosClient reads the account in its constructor (REQUESTS_CA_BUNDLE must be set)."""
    from azure.cosmos import CosmosClient

    return CosmosClient(
        lab.env["DIAGNOSE_COSMOS_ENDPOINT"],
        credential=cred,
        connection_verify=lab.ca_bundle,
        retry_total=0,
    )


def aadsts(exc: BaseException) -> int | None:
    m = re.search(r"AADSTS(\d+)", str(exc))
    return int(m.group(1)) if m else None


def ims_token(lab: Lab) -> str:
    env = lab.env
    resp = requests.post(
        f"{env['DIAGNOSE_IMS_URL']}/ims/token/v3",
        data={
            "grant_type": "client_credentials",
            "client_id": env["DIAGNOSE_ADOBE_CLIENT_ID"],
            "client_secret": env["DIAGNOSE_ADOBE_CLIENT_SECRET"],
            "scope": env["DIAGNOSE_ADOBE_SCOPES"],
        },
        verify=lab.ca_bundle,
        timeout=10,
    )
    resp.raise_for_status()
    return resp.json()["access_token"]


def adobe_headers(lab: Lab, bearer: str, sandbox: bool = True) -> dict[str, str]:
    env = lab.env
    headers = {
        "Authorization": f"Bearer {bearer}",
        "x-api-key": env["DIAGNOSE_ADOBE_CLIENT_ID"],
        "x-gw-ims-org-id": env["DIAGNOSE_IMS_ORG"],
    }
    if sandbox:
        headers["x-sandbox-name"] = env["DIAGNOSE_SANDBOX"]
    return headers


def payload(lab: Lab, request_id: str = "req-1", **overrides: Any) -> dict[str, Any]:
    body = {
        "requestId": request_id,
        "campaignId": lab.env["DIAGNOSE_CAMPAIGN_ID"],
        "recipients": [
            {
                "type": "aep",
                "namespace": "email",
                "userId": "someone@example.com",
                "channelData": {"emailAddress": "someone@example.com"},
                "context": {"offerCode": "THANKSGIVING"},
            }
        ],
    }
    body.update(overrides)
    return body


def execute(
    lab: Lab,
    body: Any = None,
    kind: str | None = None,
    timeout: float = 10,
    request_id: str = "req-1",
) -> requests.Response:
    env = lab.env
    headers = adobe_headers(lab, ims_token(lab))
    headers["x-request-id"] = request_id
    return requests.post(
        f"{env['DIAGNOSE_PLATFORM_URL']}/ajo/im/executions/{kind or env['DIAGNOSE_EXECUTION_KIND']}",
        json=payload(lab, request_id) if body is None else body,
        headers=headers,
        verify=lab.ca_bundle,
        timeout=timeout,
    )


def graph_v1(lab: Lab) -> tuple[str, str]:
    """The lab's Graph v1.0 base URL and a Graph token as the diagnosing identity."""
    return lab.urls["graph"] + "/v1.0", token(credential(lab), "https://graph.microsoft.com")


def deleted_principals(lab: Lab, base: str, bearer: str, app_id: str) -> list[dict[str, Any]]:
    """Graph's deleted items of type servicePrincipal with this appId."""
    url = f"{base}/directory/deletedItems/microsoft.graph.servicePrincipal"
    reply = get(lab, url, bearer, params={"$filter": f"appId eq '{app_id}'"})
    return list(reply.json()["value"])
