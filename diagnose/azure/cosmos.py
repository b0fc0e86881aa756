"""Cosmos DB data plane through azure-cosmos: the account read and a database listing, with a token."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from diagnose.azure import problems
from diagnose.profile import Profile

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, TokenCredential


class CosmosRefusal(Exception):
    def __init__(self, status: int, sub_status: int | None, message: str):
        super().__init__(message)
        self.status = status
        self.sub_status = sub_status
        self.message = message

    def evidence(self) -> dict[str, object]:
        return {"status": self.status, "sub_status": self.sub_status, "message": self.message}


@dataclass
class DataPlaneRead:
    databases: list[str]
    writable_locations: list[str]


def _message(exc: Exception) -> str:
    """The service's own message, without the SDK's wrapping ("Message: {...}", ActivityId lines)."""
    text = str(getattr(exc, "http_error_message", None) or exc).strip()
    for _ in range(
        3
    ):  # Cosmos nests: {"code", "message": "Message: {\"Errors\": [...]}\r\nActivityId..."}
        text = text.split("\r\nActivityId")[0].split("\nActivityId")[0].strip()
        text = text.removeprefix("Message:").strip()
        try:
            body = json.loads(text)
        except (ValueError, TypeError):
            break
        if not isinstance(body, dict):
            break
        errors = body.get("Errors")
        text = str(
            body.get("message")
            or (" ".join(map(str, errors)) if isinstance(errors, list) else text)
        )
    return text.split("\r\nActivityId")[0].split("\nActivityId")[0].strip()[:600]


class _FixedScope:
    """A credential that asks for one scope whatever the SDK asks for (instead of a process-wide
    AZURE_COSMOS_AAD_SCOPE_OVERRIDE, which a worker thread must not set)."""

    def __init__(self, inner: TokenCredential, scope: str) -> None:
        self._inner = inner
        self._scope = scope

    def get_token(self, *scopes: str, **options: Any) -> AccessToken:
        """Our scope instead of `scopes`; claims, tenant and the SDK's other options passed on."""
        return self._inner.get_token(self._scope, **options)


def read(
    profile: Profile, credential: TokenCredential, endpoint: str, scope: str | None = None
) -> DataPlaneRead:
    """Construct the client (it reads the account) and list a few databases.

    `scope`: the token scope to use instead of the SDK's `https://<host>/.default`.
    """
    os.environ.setdefault("AZURE_COSMOS_HEALTH_CHECK_MAX_RETRIES", "0")
    from azure.core.exceptions import (
        ClientAuthenticationError,
        ServiceRequestError,
        ServiceResponseError,
    )
    from azure.cosmos import CosmosClient
    from azure.cosmos.documents import SSLConfiguration
    from azure.cosmos.exceptions import CosmosHttpResponseError

    kwargs: dict[str, object] = {"retry_total": 1, "connection_timeout": 5, "read_timeout": 15}
    if profile.ca_bundle:
        kwargs["ssl_config"] = SSLConfiguration()
        kwargs["connection_verify"] = profile.ca_bundle
    if scope:
        credential = _FixedScope(credential, scope)
    try:
        client = CosmosClient(  # reads the account
            endpoint, credential=credential, consistency_level=None, **kwargs
        )
        databases = [d.get("id", "") for d in islice(client.list_databases(max_item_count=5), 5)]
    except CosmosHttpResponseError as exc:
        raise CosmosRefusal(int(exc.status_code or 0), exc.sub_status, _message(exc)) from None
    except ClientAuthenticationError as exc:
        raise problems.credential_refused(exc) from None
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise problems.from_transport(exc, endpoint) from None
    return DataPlaneRead(
        databases=databases,
        writable_locations=[client.client_connection.WriteEndpoint],
    )
