"""ARM and Microsoft Graph over azure-core: a pipeline with our own deadline and bounded retries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from diagnose.azure import problems
from diagnose.azure.credential import transport_kwargs
from diagnose.profile import Profile

if TYPE_CHECKING:
    from azure.core import PipelineClient
    from azure.core.credentials import TokenCredential
    from azure.core.pipeline import PipelineResponse
    from azure.core.pipeline.policies import RetryPolicy
    from azure.core.rest import HttpRequest, HttpResponse

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0


@dataclass
class Reply:
    status: int
    body: Any  # the parsed JSON (or the first 2000 characters of a body that is not JSON)
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


MAX_RETRY_AFTER_S = 5.0


def _bounded_retry(
    retry_total: int, retry_backoff_factor: float, retry_backoff_max: float
) -> RetryPolicy[HttpRequest, HttpResponse]:
    """azure-core's RetryPolicy, but a throttled service's Retry-After never parks a check for long."""
    from azure.core.pipeline.policies import RetryPolicy
    from azure.core.rest import HttpRequest, HttpResponse

    class BoundedRetry(RetryPolicy[HttpRequest, HttpResponse]):
        def get_retry_after(self, response: PipelineResponse[Any, Any]) -> float | None:
            after = super().get_retry_after(response)
            return None if after is None else min(after, MAX_RETRY_AFTER_S)

    return BoundedRetry(
        retry_total=retry_total,
        retry_backoff_factor=retry_backoff_factor,
        retry_backoff_max=retry_backoff_max,
    )


class RestClient:
    """GET/POST/PATCH JSON against one service with a bearer token for `scope`."""

    def __init__(
        self,
        base_url: str,
        credential: TokenCredential,
        scope: str,
        profile: Profile,
        service: str,
    ) -> None:
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import BearerTokenCredentialPolicy, HeadersPolicy
        from azure.core.pipeline.transport import RequestsTransport

        self.base_url = base_url.rstrip("/")
        self.service = service
        self._client: PipelineClient[HttpRequest, HttpResponse] = PipelineClient(
            self.base_url,
            policies=[
                HeadersPolicy({"User-Agent": "diagnose", "Accept": "application/json"}),
                _bounded_retry(retry_total=2, retry_backoff_factor=0.3, retry_backoff_max=2),
                BearerTokenCredentialPolicy(credential, scope),
            ],
            transport=RequestsTransport(**transport_kwargs(profile)),
        )

    def request(
        self, method: str, path: str, params: dict[str, str] | None = None, body: object = None
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

    def get_all(
        self, path: str, params: dict[str, str] | None = None, max_pages: int = 50
    ) -> Reply:
        """GET a list and follow `nextLink` / `@odata.nextLink`; the reply's body holds every `value`."""
        reply = self.get(path, params=params)
        if reply.status != 200 or not isinstance(reply.body, dict):
            return reply
        values = list(reply.body.get("value") or [])
        body = reply.body
        for _ in range(max_pages):
            link = body.get("nextLink") or body.get("@odata.nextLink")
            if not link:
                break
            page = self.request("GET", link)
            if page.status != 200 or not isinstance(page.body, dict):
                return page
            body = page.body
            values.extend(body.get("value") or [])
        else:
            raise RuntimeError(f"{self.service} listed more than {max_pages} pages at {path}")
        return Reply(200, {"value": values}, reply.url)


def arm(profile: Profile, credential: TokenCredential) -> RestClient:
    base = profile.cloud.arm_url
    return RestClient(base, credential, f"{base.rstrip('/')}/.default", profile, "ARM")


def graph(profile: Profile, credential: TokenCredential) -> RestClient:
    base = profile.cloud.graph_url
    return RestClient(base, credential, f"{base.rstrip('/')}/.default", profile, "Microsoft Graph")
