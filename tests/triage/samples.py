"""Realistic evidence for every signature of the catalogue, by cause code.

Each text is what the service (or its SDK) writes, as an engineer finds it in a
log or pastes it. `tests/triage/test_signatures.py` frames each one as a raw log
line and JSON-escaped inside a 500 body, and fails when a catalogue signature is
matched by none of them: add a sample here when you add a signature.
"""

from __future__ import annotations

OID = "6b0e4c1a-93d2-4f57-8b1e-2f0f0c9d7a11"
APP = "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"
TRACE = "Trace ID: 0d7c2a91-55e3-4d0e-9f3a-1c2b3d4e5f60 Correlation ID: 3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d Timestamp: 2026-11-26 01:02:03Z"
REVOKED_EN = (
    "Access to your account is currently revoked because the Azure Cosmos DB service is "
    "unable to obtain the AAD authentication token for the account's default identity"
)
REVOKED_FR = (
    "L’accès à votre compte est actuellement révoqué, car le service Azure Cosmos DB ne "
    "parvient pas à obtenir le jeton d’authentification AAD pour l’identité par défaut du compte"
)
REVOKED_JA = "Azure Cosmos DB サービスがアカウントの既定の ID の AAD 認証トークンを取得できないため、アカウントへのアクセスは現在取り消されています"
GUIDE = "for more details about this error and how to restore access to your account please visit https://learn.microsoft.com/azure/cosmos-db/cmk-troubleshooting-guide"


def _entra(code: int, error: str, description: str) -> str:
    return (
        f'{{"error":"{error}","error_description":"AADSTS{code}: {description} {TRACE}",'
        f'"error_codes":[{code}],"timestamp":"2026-11-26 01:02:03Z",'
        f'"trace_id":"0d7c2a91-55e3-4d0e-9f3a-1c2b3d4e5f60",'
        f'"error_uri":"https://login.microsoftonline.com/error?code={code}"}}'
    )


def _dotnet(status: str, code: int, sub: int, reason: str) -> str:
    return (
        f"Microsoft.Azure.Cosmos.CosmosException : Response status code does not indicate success: "
        f"{status} ({code}); Substatus: {sub}; ActivityId: 5f1d2c3b-4a59-4e8f-a7b6-c5d4e3f2a1b0; "
        f"Reason: ({reason});"
    )


def _header_style(sub: int) -> str:
    return (
        f"cosmos request GET https://cosmos-ajo.documents.azure.com/dbs/ajo failed: status=403 "
        f"x-ms-substatus={sub} x-ms-activity-id=5f1d2c3b-4a59-4e8f-a7b6-c5d4e3f2a1b0"
    )


def _cmk_status(sub: int) -> str:
    return (
        f'"customerManagedKeyStatus": "Access to your account is currently revoked because the '
        f'Azure Cosmos DB service cannot use the customer managed key; {GUIDE} ({sub})"'
    )


def _kv(code: str, message: str, inner: str | None = None) -> str:
    inner_part = f',"innererror":{{"code":"{inner}"}}' if inner else ""
    return f'{{"error":{{"code":"{code}","message":"{message}"{inner_part}}}}}'


def _gateway(code: str, message: str) -> str:
    return f'{{"error_code":"{code}","message":"{message}"}}'


def _msg(number: str, status: int, title: str, detail: str) -> str:
    return (
        f'{{"type":"https://ns.adobe.com/aep/errors/MSG-{number}-{status}","title":"{title}",'
        f'"status":{status},"detail":"{detail}","report":{{"additionalContext":'
        f'{{"requestId":"req-20261126-0001","campaignId":"10e2583b-4d1d-4b57-bd6e-fdc79405d67d"}}}}}}'
    )


SAMPLES: dict[str, list[str]] = {
    "principal.disabled": [
        _entra(
            7000112,
            "unauthorized_client",
            f"Application '{APP}'(id-cosmos-cmk) is disabled.",
        ),
        f'GET https://graph.microsoft.com/v1.0/servicePrincipals(appId=\'{APP}\') 200 {{"id":"{OID}","appId":"{APP}","displayName":"id-cosmos-cmk","accountEnabled":false,"servicePrincipalType":"ManagedIdentity"}}',
    ],
    "principal.disabled-by-microsoft": [
        f'{{"id":"{OID}","appId":"{APP}","accountEnabled":true,"disabledByMicrosoftStatus":"DisabledDueToViolationOfServicesAgreement"}}',
    ],
    "principal.deleted": [
        f"Microsoft.IdentityModel.Clients.ActiveDirectory.AdalServiceException: AADSTS70001: Application with identifier '{APP}' was not found in the directory contoso.onmicrosoft.com",
        _entra(
            700016,
            "unauthorized_client",
            f"Application with identifier '{APP}' was not found in the directory 'Contoso'.",
        ),
        f"GET https://graph.microsoft.com/v1.0/servicePrincipals(appId='{APP}') 404 "
        + '{"error":{"code":"Request_ResourceNotFound","message":"Resource \''
        + APP
        + "' does not exist or one of its queried reference-property objects are not present.\"}}",
    ],
    "cosmos.revoked": [
        'HTTP 403 from https://cosmos-ajo.documents.azure.com/dbs/ajo/colls/messages/docs: {"Errors":["Request is blocked due to Customer Managed Key not being accessible."]}',
        'PATCH databaseAccounts/cosmos-ajo answered 400 {"code":"BadRequest","message":"No Update is allowed on Database Account with Customer Managed Key in Revoked Status"}',
        f'"customerManagedKeyStatus": "Access to your account is currently revoked; {GUIDE}"',
    ],
    "cosmos.key-uri-invalid": [
        'PUT databaseAccounts/cosmos-ajo answered 400 {"code":"BadRequest","message":"Provided KeyVaultKeyUri https://kv-ajo-cmk.vault.azure.net/keys/ is Invalid."}',
    ],
    "keyvault.challenge": [
        "POST https://kv-ajo-cmk.vault.azure.net/keys/cmk/wrapkey 401 "
        + _kv("Unauthorized", "Request is missing a Bearer or PoP token."),
    ],
    "keyvault.role-missing": [
        "POST https://kv-ajo-cmk.vault.azure.net/keys/cmk/unwrapkey 403 "
        + _kv(
            "Forbidden",
            f"Caller is not authorized to perform action on resource.\\r\\nCaller: appid={APP};oid={OID}\\r\\nAction: 'Microsoft.KeyVault/vaults/keys/unwrap/action'\\r\\nVault: kv-ajo-cmk;location=westeurope\\r\\n",
            "ForbiddenByRbac",
        ),
        f"Key Vault kv-ajo-cmk refused unwrapKey: Caller is not authorized to perform action on resource. Caller: appid={APP};oid={OID} Vault: kv-ajo-cmk;location=westeurope",
        # ARM's answer to GET …/vaults/{v}/keys/{k} without Key Vault rights: 400, ForbiddenByRbac top level
        "GET https://management.azure.com/subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-ajo-cmk/keys/cmk answered 400 "
        + _kv(
            "ForbiddenByRbac",
            f"[ForbiddenByRbac (Forbidden)] Caller is not authorized to perform action on resource.\\r\\nCaller: name=KeyVault/ManagementPlane;appid={APP};oid={OID}\\r\\nAction: 'Microsoft.KeyVault/vaults/keys/read'\\r\\nAssignment: (not found)\\r\\n",
        ),
    ],
    "keyvault.access-policy-missing": [
        _kv(
            "Forbidden",
            f"The user, group or application 'appid={APP};oid={OID};iss=https://sts.windows.net/72f988bf/' does not have keys get permission on key vault 'kv-ajo-cmk;location=westeurope'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
            "AccessDenied",
        ),
        "Azure.RequestFailedException: Operation returned an invalid status code 'Forbidden' Status: 403 ErrorCode: Forbidden Content: The user, group or application does not have keys unwrapKey permission on key vault 'kv-ajo-cmk;location=westeurope'.",
        "Caused by: com.microsoft.azure.storage.StorageException: The key vault key is not found to unwrap the encryption key.",
    ],
    "keyvault.key-rights-missing": [
        # a service's CMK identity, in that service's words (ansible-collections/azure#1676)
        "(KeyVaultAccessForbidden) Unable to access key vault resource 'kv-ajo-cmk' to enable encryption at rest. Please grant get, wrap and unwrap key permissions to user-assigned identity 'id-cosmos-cmk'.",
    ],
    "keyvault.firewall-blocks-trusted-services": [
        # troubleshoot-cmk §1.1: the vault's bypass is None, so trusted services are refused too
        "Database account creation failed. Error: "
        + _kv(
            "Forbidden",
            "Client address is not authorized and caller was ignored because bypass is set to None \\r\\nClient address: 20.61.3.17\\r\\nVault: kv-ajo-cmk;location=westeurope",
            "ForbiddenByFirewall",
        ),
    ],
    "keyvault.firewall-blocks-caller": [
        _kv(
            "Forbidden",
            "Client address is not authorized and caller is not a trusted service.\\r\\nClient address: 20.61.3.17\\r\\nVault: kv-ajo-cmk;location=westeurope",
            "ForbiddenByFirewall",
        ),
        "wrapKey on https://kv-ajo-cmk.vault.azure.net/keys/cmk failed (403): Client address is not authorized and caller is not a trusted service. Client address: 20.61.3.17",
    ],
    "key.not-found": [
        _kv(
            "KeyNotFound",
            "A key with (name/id) cmk was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command.",
        ),
        "azure.core.exceptions.ResourceNotFoundError: (NotFound) A key with (name/id) cmk was not found in this key vault.",
    ],
    "key.disabled": [
        _kv("Forbidden", "Operation unwrapKey is not allowed on a disabled key.", "KeyDisabled"),
        # learn.microsoft.com/azure/mysql/howto-data-encryption-troubleshoot (AzureKeyVaultKeyDisabledMessage)
        "The operation couldn't be completed on server because the Azure Key Vault key is disabled.",
    ],
    "key.operations-missing": [
        "Azure.RequestFailedException: Service request failed. Status: 403 (Forbidden) Content: "
        + _kv(
            "Forbidden",
            "Operation unwrapKey is not permitted on this key.",
            "KeyOperationForbidden",
        ),
    ],
    "arm.api-version-unsupported": [
        "azure.core.exceptions.HttpResponseError: (NoRegisteredProviderFound) No registered resource provider found for location 'usgovvirginia' and API version '2026-07-15' for type 'databaseAccounts'. The supported api-versions are '2023-04-15, 2024-11-15'.",
        'GET https://management.azure.com/subscriptions/0000/providers/Microsoft.KeyVault/vaults answered 400 {"error":{"code":"InvalidApiVersionParameter","message":"The api-version \'2030-01-01\' is invalid. The supported versions are \'2021-04-01,2020-06-01\'."}}',
    ],
    "cosmos.revoked.4000": [
        _dotnet(
            "Forbidden",
            403,
            4000,
            "Request is blocked due to Customer Managed Key not being accessible.",
        ),
        _cmk_status(4000),
        f"Cosmos DB 403 Forbidden: {REVOKED_EN}",
        f"Les journaux système affichent une erreur 403 Interdit : « {REVOKED_FR} »",
        f"la base répond 403 : {REVOKED_FR.replace('’', chr(39))}",
        f"Cosmos DB 403: {REVOKED_JA}",
    ],
    "cosmos.dataplane-role-missing": [
        _dotnet(
            "Forbidden",
            403,
            5301,
            f"Request blocked by Auth cosmos-ajo : Request is blocked because principal [{OID}] does not have required RBAC permissions to perform action [Microsoft.DocumentDB/databaseAccounts/readMetadata] on resource [/]. Learn more: https://aka.ms/cosmos-native-rbac.",
        ),
        f"azure.cosmos.exceptions.CosmosHttpResponseError: Request is blocked because principal [{OID}] does not have required RBAC permissions to perform action [Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/create] on resource [/dbs/ajo/colls/messages].",
        _header_style(5302),
        _header_style(5303),
    ],
    "cosmos.dataplane-unauthorized": [
        'HTTP/1.1 401 Unauthorized x-ms-substatus: 5202 {"code":"Unauthorized","message":"Local Authorization is disabled. Use an AAD token to authorize all requests."}',
        _dotnet("Unauthorized", 401, 5006, "The access token has expired."),
        "CosmosClient: Local Authorization is disabled. Use an AAD token to authorize all requests.",
    ],
    "cosmos.dataplane-operation-not-allowed": [
        _dotnet(
            "Forbidden",
            403,
            5300,
            "Operation 'POST' on resource 'dbs' is not allowed through Azure Cosmos DB endpoint. Please switch on such operations for your account, or perform this operation through Azure Resource Manager",
        ),
        "Forbidden, Request blocked by Auth cosmos-ajo : The given request [POST /dbs/ajo/colls/messages/sprocs] cannot be authorized by AAD token in data plane. Learn more: https://aka.ms/cosmos-native-rbac.",
    ],
    "campaign.server-error": [
        _msg("000500", 500, "Internal Server Error", "The request could not be processed."),
        "POST https://platform.adobe.io/ajo/im/executions/unitary -> HTTP 500 (x-request-id: req-20261126-0001)",
    ],
    "call.timeout": [
        "POST https://platform.adobe.io/ajo/im/executions/unitary failed: HTTPSConnectionPool(host='platform.adobe.io', port=443): Read timed out. (read timeout=60)",
        "curl -X POST https://platform.adobe.io/ajo/im/executions/unitary -d @payload.json: curl: (28) Operation timed out after 60001 milliseconds with 0 bytes received",
        "System.Threading.Tasks.TaskCanceledException: The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing. (POST /ajo/im/executions/highthroughput)",
    ],
    "credential.secret-invalid": [
        _entra(
            7000215,
            "invalid_client",
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        ),
        "AdalServiceException: AADSTS70002: Error validating credentials. AADSTS50012: Invalid client secret is provided.",
    ],
    "credential.secret-expired": [
        _entra(
            7000222,
            "invalid_client",
            f"The provided client secret keys for app '{APP}' are expired.",
        ),
    ],
    "credential.tenant-not-found": [
        _entra(
            90002,
            "invalid_request",
            "Tenant '00000000-1111-2222-3333-444444444444' not found. Check to make sure you have the correct tenant ID.",
        ),
    ],
    "credential.resource-not-found": [
        _entra(
            500011,
            "invalid_resource",
            "The resource principal named https://cosmos-ajo.documents.azure.com:443 was not found in the tenant named Contoso.",
        ),
    ],
    "credential.user-disabled": [
        _entra(50057, "invalid_grant", "The user account is disabled."),
    ],
    "gateway.token-invalid": [
        _gateway("401013", "Oauth token is not valid"),
        "POST https://platform.adobe.io/ajo/im/executions/unitary rejected by the gateway: Oauth token is not valid",
    ],
    "gateway.token-missing": [
        _gateway("403010", "Oauth token is missing."),
        "POST https://platform.adobe.io/ajo/im/executions/unitary rejected by the gateway: Oauth token is missing.",
    ],
    "gateway.api-key-missing": [
        _gateway("403000", "Api Key is required"),
        "POST https://platform.adobe.io/ajo/im/executions/unitary rejected by the gateway: Api Key is required",
    ],
    "gateway.api-key-invalid": [
        _gateway("403003", "Api Key is invalid"),
        "POST https://platform.adobe.io/ajo/im/executions/unitary rejected by the gateway: Api Key is invalid",
    ],
    "gateway.header-missing": [_gateway("400003", "Missing header x-gw-ims-org-id")],
    "gateway.profile-invalid": [_gateway("403025", "Profile is not valid")],
    "ims.invalid-client": [
        'POST https://ims-na1.adobelogin.com/ims/token/v3 400 {"error":"invalid_client","error_description":"invalid client_secret parameter"}'
    ],
    "ims.invalid-scope": [
        'POST https://ims-na1.adobelogin.com/ims/token/v3 400 {"error":"invalid_scope","error_description":"Invalid scope: openid,AdobeID,read_pc"}'
    ],
    "ims.unavailable": [
        'POST https://ims-na1.adobelogin.com/ims/token/v3 500 {"error":"internal_error","error_description":"Please try again later"}'
    ],
    "ajo.request-rejected": [
        _msg(
            "000052",
            400,
            "An error has occurred",
            "'recipients' must hold between 1 and 20 recipients.",
        ),
    ],
    "campaign.not-live": [
        _msg("000064", 400, "Campaign is not active", "Campaign '10e2583b' is draft, not live."),
    ],
    "campaign.outside-window": [
        _msg(
            "000064",
            400,
            "Campaign is not active",
            "The request is outside the campaign's schedule (2026-12-01T00:00:00.000Z to 2026-12-31T00:00:00.000Z).",
        ),
    ],
    "campaign.not-found": [
        _msg("000061", 400, "Campaign not found", "No live campaign with id '10e2583b'."),
    ],
    "campaign.endpoint-mismatch": [
        _msg(
            "000063",
            400,
            "Invalid endpoint for campaign",
            "Campaign '10e2583b' is a unitary campaign; it cannot be executed on /im/executions/highthroughput.",
        ),
    ],
}

for _sub in (
    4001,
    4002,
    4003,
    4004,
    4005,
    4006,
    4007,
    4008,
    4009,
    4010,
    4011,
    4012,
    4013,
    4014,
    4015,
    4016,
    4017,
    4018,
    4019,
):
    SAMPLES[f"cosmos.revoked.{_sub}"] = [
        _dotnet(
            "Forbidden",
            403,
            _sub,
            "Request is blocked due to Customer Managed Key not being accessible.",
        ),
        _cmk_status(_sub),
    ]
SAMPLES["cosmos.revoked.other"] = [  # a sub-status newer than this catalogue
    _dotnet(
        "Forbidden",
        403,
        4021,
        "Request is blocked due to Customer Managed Key not being accessible.",
    ),
    _cmk_status(4021),
]
SAMPLES["cosmos.revoked.4004"].append(
    'PATCH databaseAccounts/cosmos-ajo answered 503 {"code":"ServiceUnavailable","message":"Error contacting the Azure Key Vault resource. Please try again."}'
)

# The published customerManagedKeyStatus texts (api-version 2023-09-15; docs/research/published-behaviour.md §1),
# each pasted without its "(NNNN)" as a truncated copy would be: the reason phrase alone gives the code.
_PUBLISHED_REASONS = {
    4002: "the current default identity no longer has permission to the associated Key Vault key",
    4003: "the correspondent key is not found on the specified Key Vault",
    4005: "the Azure Cosmos DB service is unable to wrap or unwrap the key",
    4006: "the Azure Cosmos DB account's key vault key URI does not follow the expected format",
    4009: "the Azure Key Vault DNS name specified by the account's keyvaultkeyuri property could not be resolved",
    4015: "the Azure Cosmos DB account has an undefined default identity",
    4016: "the access rules are blocking outbound requests to the Azure Key Vault service",
    4017: "the correspondent Azure Key Vault was not found",
}
for _sub, _reason in _PUBLISHED_REASONS.items():
    SAMPLES[f"cosmos.revoked.{_sub}"].append(
        f'"customerManagedKeyStatus": "Access to your account is currently revoked because {_reason}; for more details"'
    )
