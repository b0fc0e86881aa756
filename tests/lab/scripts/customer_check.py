"""A customer's own script: knows nothing of diagnose, only the environment a `source`d env file sets.

It uses azure-identity, azure-keyvault-keys, azure-cosmos and plain HTTPS (requests)
and prints one JSON object with what it saw. Certificate checking stays on: the CA
bundle comes from REQUESTS_CA_BUNDLE.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid

import requests
from azure.cosmos import CosmosClient
from azure.cosmos.exceptions import CosmosHttpResponseError
from azure.identity import ClientSecretCredential
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm

logging.disable(logging.WARNING)
E = os.environ
CA = E["REQUESTS_CA_BUNDLE"]


def main() -> dict:
    out: dict = {}
    cred = ClientSecretCredential(
        E["AZURE_TENANT_ID"],
        E["AZURE_CLIENT_ID"],
        E["AZURE_CLIENT_SECRET"],
        authority=E["AZURE_AUTHORITY_HOST"],
        disable_instance_discovery=True,
        connection_verify=CA,
    )
    graph = {
        "Authorization": "Bearer " + cred.get_token(E["DIAGNOSE_GRAPH_URL"] + "/.default").token
    }
    arm = {"Authorization": "Bearer " + cred.get_token(E["DIAGNOSE_ARM_URL"] + "/.default").token}

    sp = requests.get(
        f"{E['DIAGNOSE_GRAPH_URL']}/v1.0/servicePrincipals(appId='{E['DIAGNOSE_PRINCIPAL_APP_ID']}')",
        headers=graph,
        timeout=10,
    ).json()
    out["accountEnabled"] = sp["accountEnabled"]
    roles = requests.get(
        f"{E['DIAGNOSE_ARM_URL']}{E['DIAGNOSE_KEYVAULT_ID']}/providers/Microsoft.Authorization/roleAssignments",
        params={"api-version": "2022-04-01", "$filter": f"assignedTo('{sp['id']}')"},
        headers=arm,
        timeout=10,
    ).json()["value"]
    out["principal_roles"] = len(roles)
    vault = requests.get(
        f"{E['DIAGNOSE_ARM_URL']}{E['DIAGNOSE_KEYVAULT_ID']}",
        params={"api-version": "2023-07-01"},
        headers=arm,
        timeout=10,
    ).json()
    out["purge_protection"] = bool(vault["properties"].get("enablePurgeProtection"))
    account = requests.get(
        f"{E['DIAGNOSE_ARM_URL']}{E['DIAGNOSE_COSMOS_ID']}",
        params={"api-version": "2024-11-15"},
        headers=arm,
        timeout=10,
    ).json()
    status = account["properties"]["customerManagedKeyStatus"]
    code = re.search(r"\((\d{4})\)\.?\s*$", status)  # the published texts end "(NNNN)."
    out["cmk_code"] = int(code.group(1)) if code else None

    key = KeyClient(
        E["DIAGNOSE_KEYVAULT_URL"], cred, verify_challenge_resource=False, connection_verify=CA
    ).get_key(E["DIAGNOSE_KEY_ID"].rstrip("/").rsplit("/", 1)[1])
    crypto = CryptographyClient(key, cred, verify_challenge_resource=False, connection_verify=CA)
    secret = os.urandom(32)
    wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep, secret)
    out["unwrap_ok"] = (
        crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep, wrapped.encrypted_key).key == secret
    )

    try:
        client = CosmosClient(E["DIAGNOSE_COSMOS_ENDPOINT"], credential=cred)
        out["cosmos"] = [d["id"] for d in client.list_databases()]
    except CosmosHttpResponseError as exc:
        out["cosmos"] = {"status": exc.status_code, "sub_status": exc.sub_status}

    ims = requests.post(
        f"{E['DIAGNOSE_IMS_URL']}/ims/token/v3",
        data={
            "grant_type": "client_credentials",
            "client_id": E["DIAGNOSE_ADOBE_CLIENT_ID"],
            "client_secret": E["DIAGNOSE_ADOBE_CLIENT_SECRET"],
            "scope": E["DIAGNOSE_ADOBE_SCOPES"],
        },
        timeout=10,
    ).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {ims}",
        "x-api-key": E["DIAGNOSE_ADOBE_CLIENT_ID"],
        "x-gw-ims-org-id": E["DIAGNOSE_IMS_ORG"],
        "x-sandbox-name": E["DIAGNOSE_SANDBOX"],
    }
    request_id = str(uuid.uuid4())
    body = {
        "requestId": request_id,
        "campaignId": E["DIAGNOSE_CAMPAIGN_ID"],
        "recipients": [{"type": "aep", "namespace": "email", "userId": "someone@example.com"}],
    }
    resp = requests.post(
        f"{E['DIAGNOSE_PLATFORM_URL']}/ajo/im/executions/{E['DIAGNOSE_EXECUTION_KIND']}",
        json=body,
        headers={**headers, "x-request-id": request_id},
        timeout=30,
    )
    out["trigger"] = resp.status_code
    return out


if __name__ == "__main__":
    print(json.dumps(main()))
