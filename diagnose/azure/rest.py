"""ARM and Microsoft Graph over azure-core: a pipeline with our own deadline and bounded retries.

`Reply` is the one place where an answer of either service becomes evidence or a limitation:
`service_error()` is the service's error code only when the body has the service's error
shape (`{"error": {"code": ..., "message": ...}}`); `resource()` and `fields()` give a
well-formed JSON object (`diagnose.answers.Fields`) or raise a limitation that says what
happened ("ARM answered 404 without an error code (a gateway or proxy page?)").
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from diagnose import deadline
from diagnose.answers import (
    TRANSIENT,
    Fields,
    MalformedAnswer,
    UnexpectedAnswer,
    unexplained_status,
)
from diagnose.azure import pipeline, problems
from diagnose.errors import CredentialRefused, NotPermitted, ToolLimitation
from diagnose.profile import Profile

if TYPE_CHECKING:
    from azure.core import PipelineClient
    from azure.core.credentials import TokenCredential
    from azure.core.rest import HttpRequest, HttpResponse

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0
# ARM's and the resource providers' codes for "this does not exist" (ARM's error shape).
ARM_NOT_FOUND = (
    "ResourceNotFound",
    "ParentResourceNotFound",
    "ResourceGroupNotFound",
    "SubscriptionNotFound",
    "NotFound",
    "KeyNotFound",
    "VaultNotFound",
    "RoleDefinitionDoesNotExist",
)
GRAPH_NOT_FOUND = ("Request_ResourceNotFound", "ResourceNotFound")
NO_HEADERS: Mapping[str, str] = MappingProxyType({})


@dataclass
class Reply:
    status: int
    body: Any  # the parsed JSON; None when empty; the first 2000 characters of a body that is not JSON
    url: str
    service: str = "ARM"
    attempts: int = 1
    retry_after: str | None = None
    # the answer's headers, names lower-cased, read-only; for the caller's logic (Resource
    # Graph's quota), never rendered: not in repr, never in a report
    headers: Mapping[str, str] = field(
        default_factory=lambda: NO_HEADERS, repr=False, compare=False
    )

    @classmethod
    def of(cls, response: HttpResponse, url: str, service: str, tally: pipeline.Tally) -> Reply:
        """An azure-core response (already read, and bounded by the transport) as a Reply."""
        text = response.content.decode("utf-8", errors="replace")  # JSON is UTF-8 (RFC 8259)
        payload: Any = None
        if text.strip():
            try:
                payload = json.loads(text)
            except (ValueError, RecursionError):
                payload = text[:2000]
        return cls(
            response.status_code,
            payload,
            url,
            service,
            max(1, tally.attempts),
            response.headers.get("Retry-After"),
            MappingProxyType({k.lower(): v for k, v in response.headers.items()}),
        )

    def service_error(self) -> str | None:
        """The service's error code, only when the body has the service's error shape."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        return code if isinstance(code, str) and code.strip() else None

    def inner_error(self) -> str | None:
        """Key Vault's `innererror.code` (ForbiddenByRbac, KeyDisabled, ...), with the service's shape."""
        if self.service_error() is None:
            return None
        inner = self.body["error"].get("innererror")
        code = inner.get("code") if isinstance(inner, dict) else None
        return code if isinstance(code, str) and code.strip() else None

    @property
    def error_code(self) -> str | None:
        return self.service_error()

    @property
    def error_message(self) -> str:
        if self.service_error() is None:
            return ""
        return str(self.body["error"].get("message") or "")

    def problem(self, what: str, permission: str | None = None) -> ToolLimitation:
        """The limitation this answer is when it is not the evidence the caller needs."""
        code, service = self.service_error(), self.service
        if 200 <= self.status < 300:
            if self.body is None:
                return MalformedAnswer(
                    f"{service} answered {self.status} with an empty body for {what}"
                )
            return MalformedAnswer(f"{service}'s answer for {what} was not a JSON object")
        if code is not None and self.status == 401:
            return CredentialRefused(
                f"{service} did not accept the tool's token to read {what} ({code})"
            )
        if code is not None and self.status == 403:
            return NotPermitted(
                f"{service} refused to let the diagnosing identity read {what} ({code})", permission
            )
        note = ""
        if self.status in TRANSIENT and self.retry_after and self.attempts == 1:
            # not retried: waiting out its Retry-After did not fit the time left
            note = f"; its Retry-After ({self.retry_after} s) did not fit the time left"
        return unexplained_status(
            service, self.status, code, what, self.attempts, self.error_message[:200], note
        )

    def fields(self, what: str, permission: str | None = None) -> Fields:
        """The answer's JSON object (a 2xx), or the limitation this answer is."""
        if 200 <= self.status < 300 and isinstance(self.body, dict):
            return Fields(self.body, f"{self.service}'s answer for {what}")
        raise self.problem(what, permission)

    def resource(
        self, what: str, not_found: Collection[str], permission: str | None = None
    ) -> Fields | None:
        """The resource, or None when the service said in its own words that it does not exist."""
        if self.status == 404 and self.service_error() in not_found:
            return None
        return self.fields(what, permission)


def send(client: Any, request: HttpRequest, service: str, base_url: str) -> Reply:
    """Send `request` through `client`'s pipeline (a PipelineClient, or an SDK client's
    `send_request`); the answer as a Reply, a failure on the wire or of the credential as the
    limitation it is."""
    from azure.core.exceptions import AzureError, ClientAuthenticationError, DecodeError

    tally = pipeline.Tally()
    try:
        response = client.send_request(
            request,
            connection_timeout=CONNECT_TIMEOUT_S,
            read_timeout=deadline.bounded(READ_TIMEOUT_S),
            tally=tally,
        )
    except ClientAuthenticationError as exc:
        raise problems.credential_refused(exc) from None
    except (DecodeError, UnicodeDecodeError):  # an SDK pipeline's own JSON decoding
        raise MalformedAnswer(f"{service}'s answer was not JSON ({base_url})") from None
    except AzureError as exc:
        raise problems.from_transport(exc, base_url, service) from None
    return Reply.of(response, request.url, service, tally)


class RestClient:
    """GET/POST/PATCH JSON against one service with a bearer token for `scope`."""

    def __init__(
        self,
        base_url: str,
        credential: TokenCredential,
        scope: str,
        profile: Profile,
        service: str,
        extra_policies: Sequence[Any] = (),  # after the token's (the fleet's ARM pacing)
    ) -> None:
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import BearerTokenCredentialPolicy, HeadersPolicy

        self.base_url = base_url.rstrip("/")
        self.service = service
        self._client: PipelineClient[HttpRequest, HttpResponse] = PipelineClient(
            self.base_url,
            policies=[
                HeadersPolicy({"User-Agent": "diagnose", "Accept": "application/json"}),
                pipeline.retry_policy(),
                BearerTokenCredentialPolicy(credential, scope),
                *extra_policies,
            ],
            transport=pipeline.transport(profile, service),
        )

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: object = None,
        *,
        service: str
        | None = None,  # the name the answer's limitations give (default: the client's)
    ) -> Reply:
        from azure.core.rest import HttpRequest

        url = path if path.startswith("https://") else f"{self.base_url}{path}"
        return send(
            self._client,
            HttpRequest(method, url, params=params, json=body),
            service or self.service,
            self.base_url,
        )

    def get(self, path: str, params: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, params=params)

    def post(
        self,
        path: str,
        params: dict[str, str] | None = None,
        body: object = None,
        *,
        service: str | None = None,
    ) -> Reply:
        return self.request("POST", path, params, body, service=service)

    def get_all(
        self, path: str, params: dict[str, str] | None = None, max_pages: int = 50
    ) -> Reply:
        """GET a list and follow `nextLink` / `@odata.nextLink`; the reply's body holds every `value`.

        A page that is not a 200 is returned as it came (the caller reports it); a 200 page
        without a `value` list is a MalformedAnswer.
        """
        reply = self.get(path, params=params)
        if reply.status != 200:
            return reply
        what = f"the listing at {path.split('?')[0]}"
        values: list[Any] = []
        page = reply
        for _ in range(max_pages):
            fields = page.fields(what)
            values.extend(item.raw for item in fields.objects("value"))
            link = fields.opt_text("nextLink") or fields.opt_text("@odata.nextLink")
            if not link:
                return Reply(
                    200,
                    {"value": values},
                    reply.url,
                    self.service,
                    reply.attempts,
                    headers=page.headers,  # the last page's (a quota's latest reading)
                )
            page = self.request("GET", link)
            if page.status != 200:
                return page
        raise UnexpectedAnswer(f"{self.service} listed more than {max_pages} pages at {path}")


# Azure Resource Graph's query API, reached through ARM: the 2024-04-01 specification
# (docs/research/audit-and-inventory-shapes.md §3).
RESOURCE_GRAPH_PATH = "/providers/Microsoft.ResourceGraph/resources"
RESOURCE_GRAPH_API_VERSION = "2024-04-01"


def resource_graph(arm: RestClient, body: dict[str, Any]) -> Reply:
    """One Resource Graph query (one page) through the ARM client; its limitations name
    Resource Graph, not ARM."""
    return arm.post(
        RESOURCE_GRAPH_PATH,
        {"api-version": RESOURCE_GRAPH_API_VERSION},
        body,
        service="Resource Graph",
    )


def arm(
    profile: Profile, credential: TokenCredential, extra_policies: Sequence[Any] = ()
) -> RestClient:
    base = profile.cloud.arm_url
    return RestClient(
        base, credential, f"{base.rstrip('/')}/.default", profile, "ARM", extra_policies
    )


def graph(profile: Profile, credential: TokenCredential) -> RestClient:
    base = profile.cloud.graph_url
    return RestClient(base, credential, f"{base.rstrip('/')}/.default", profile, "Microsoft Graph")
