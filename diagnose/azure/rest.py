"""ARM and Microsoft Graph over azure-core: a pipeline with our own deadline and bounded retries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from diagnose.azure import problems
from diagnose.azure.credential import transport_kwargs
from diagnose.profile import Profile

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0


@dataclass
class Reply:
    status: int
    body: Any
    url: str

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"].get("code")
        return None

    @property
    def error_message(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("message", ""))
        return ""


class RestClient:
    """GET/POST/PATCH JSON against one service with a bearer token for `scope`."""

    def __init__(self, base_url: str, credential: Any, scope: str, profile: Profile, service: str):
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import (
            BearerTokenCredentialPolicy,
            HeadersPolicy,
            RetryPolicy,
        )
        from azure.core.pipeline.transport import RequestsTransport

        self.base_url = base_url.rstrip("/")
        self.service = service
        self._client = PipelineClient(
            self.base_url,
            policies=[
                HeadersPolicy({"User-Agent": "diagnose", "Accept": "application/json"}),
                RetryPolicy(retry_total=2, retry_backoff_factor=0.3, retry_backoff_max=2),
                BearerTokenCredentialPolicy(credential, scope),
            ],
            transport=RequestsTransport(**transport_kwargs(profile)),
        )

    def request(
        self, method: str, path: str, params: dict[str, str] | None = None, body: Any = None
    ) -> Reply:
        from azure.core.exceptions import (
            ClientAuthenticationError,
            ServiceRequestError,
            ServiceResponseError,
        )
        from azure.core.rest import HttpRequest

        url = path if path.startswith("https://") else f"{self.base_url}{path}"
        request = HttpRequest(method, url, params=params, json=body)
        try:
            response = self._client.send_request(
                request, connection_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S
            )
        except ClientAuthenticationError as exc:
            raise problems.credential_refused(exc) from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise problems.from_transport(exc, self.base_url) from None
        try:
            payload: Any = response.json() if response.text() else None
        except (ValueError, json.JSONDecodeError):
            payload = response.text()[:2000]
        return Reply(response.status_code, payload, url)

    def get(self, path: str, params: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, params=params)


def arm(profile: Profile, credential: Any) -> RestClient:
    base = profile.cloud.arm_url
    return RestClient(base, credential, f"{base.rstrip('/')}/.default", profile, "ARM")


def graph(profile: Profile, credential: Any) -> RestClient:
    base = profile.cloud.graph_url
    return RestClient(base, credential, f"{base.rstrip('/')}/.default", profile, "Microsoft Graph")
