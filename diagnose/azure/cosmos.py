"""Cosmos DB data plane through azure-cosmos: the account read and a database listing, with a token."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from diagnose import deadline
from diagnose.answers import (
    MalformedAnswer,
    UnexpectedAnswer,
    refused_in_own_words,
    unexplained_status,
)
from diagnose.azure import pipeline, problems, quiet_sdk_logs
from diagnose.profile import Profile

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, TokenCredential


COSMOS = "Cosmos DB"
MAX_THROTTLE_WAIT_S = 5


class CosmosRefusal(Exception):
    """Cosmos DB answered an error; `code` is its error code, None when the body is not its shape."""

    def __init__(
        self, status: int, sub_status: int | None, message: str, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.sub_status = sub_status
        self.message = message
        self.code = code

    def evidence(self) -> dict[str, object]:
        return {
            "status": self.status,
            "sub_status": self.sub_status,
            "code": self.code,
            "message": self.message,
        }

    def unexplained(self) -> UnexpectedAnswer | None:
        """The limitation this answer is when it is no evidence: a throttle or 5xx that outlasted
        the SDK's retries, or a status without Cosmos DB's error shape (a gateway's or proxy's page)."""
        if refused_in_own_words(self.status, self.code):
            return None
        sub = f"sub-status {self.sub_status}" if self.sub_status else ""
        return unexplained_status(COSMOS, self.status, self.code, "the data-plane read", None, sub)


@dataclass
class DataPlaneRead:
    databases: list[str]
    writable_locations: list[str]


def _code(exc: Exception) -> str | None:
    """The `code` of Cosmos DB's error body (`{"code": "Forbidden", "message": ...}`), if it is one."""
    try:
        body = json.loads(str(getattr(exc, "http_error_message", None) or ""))
    except (ValueError, TypeError, RecursionError):
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) and code.strip() else None


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
        except (ValueError, TypeError, RecursionError):
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
        AzureError,
        ClientAuthenticationError,
    )
    from azure.cosmos import CosmosClient
    from azure.cosmos.documents import SSLConfiguration
    from azure.cosmos.exceptions import CosmosHttpResponseError

    quiet_sdk_logs()
    left = deadline.remaining()
    kwargs: dict[str, object] = {
        # at most two retries (throttles included), none waiting longer than the time left allows
        "retry_total": pipeline.MAX_RETRIES,
        "retry_backoff_max": max(1, int(min(MAX_THROTTLE_WAIT_S, (left or 60) - 1))),
        "connection_timeout": 5,
        "read_timeout": deadline.bounded(15),
        "transport": pipeline.transport(profile, COSMOS),
    }
    if profile.ca_bundle:
        kwargs["ssl_config"] = SSLConfiguration()
        kwargs["connection_verify"] = profile.ca_bundle
    if scope:
        credential = _FixedScope(credential, scope)
    try:
        client = CosmosClient(  # reads the account
            endpoint, credential=credential, consistency_level=None, **kwargs
        )
        databases = [
            str(d.get("id", "")) if isinstance(d, dict) else ""
            for d in islice(client.list_databases(max_item_count=5), 5)
        ]
        writable = [str(client.client_connection.WriteEndpoint)]
    except CosmosHttpResponseError as exc:
        raise CosmosRefusal(
            int(exc.status_code or 0), exc.sub_status, _message(exc), _code(exc)
        ) from None
    except ClientAuthenticationError as exc:
        raise problems.credential_refused(exc) from None
    except AzureError as exc:
        raise problems.from_transport(exc, endpoint, COSMOS) from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # the SDK parses the account and the listing itself: what it cannot read is malformed
        raise MalformedAnswer(
            f"{COSMOS}'s answer could not be read ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None
    return DataPlaneRead(
        databases=databases,
        writable_locations=writable,
    )
