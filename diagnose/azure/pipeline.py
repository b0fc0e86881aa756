"""What every azure-core pipeline of ours shares: a bounded transport and a retry policy that
honours `Retry-After` only when it fits the time left (`diagnose.deadline`), at most two retries.

The SDK clients (Key Vault, Cosmos DB, the credential) get the same transport; the REST
client (ARM, Graph) and the Key Vault client get the same retry policy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from diagnose import deadline
from diagnose.answers import cap_session
from diagnose.profile import Profile

if TYPE_CHECKING:
    from azure.core.pipeline import PipelineRequest, PipelineResponse
    from azure.core.pipeline.policies import RetryPolicy
    from azure.core.pipeline.transport import RequestsTransport
    from azure.core.rest import HttpRequest, HttpResponse

MAX_RETRIES = 2
BACKOFF_FACTOR_S = 0.3
BACKOFF_MAX_S = 2.0


@dataclass
class Tally:
    """How many times one request was sent (filled in by the retry policy; pass it as `tally=`)."""

    attempts: int = 0


def transport(profile: Profile, service: str) -> RequestsTransport:
    """azure-core's requests transport, trusting the profile's CA bundle, whose answers are bounded."""
    from azure.core.pipeline.transport import RequestsTransport

    class BoundedTransport(RequestsTransport):
        def open(self) -> None:
            super().open()
            if self.session is not None:
                cap_session(self.session, service)

    kwargs: dict[str, Any] = {"connection_verify": profile.ca_bundle} if profile.ca_bundle else {}
    return BoundedTransport(**kwargs)


@functools.cache
def retry_class() -> type[RetryPolicy[HttpRequest, HttpResponse]]:
    """azure-core's RetryPolicy, but no retry that would outlast the deadline.

    A throttled answer's `Retry-After` is waited out when it fits the time left; when it does
    not, the answer is returned as it came (the caller reports it). A `tally=Tally()` option on
    the request counts the attempts. (A class, for azure-identity's `retry_policy_class`.)
    """
    from azure.core.pipeline.policies import RetryPolicy
    from azure.core.rest import HttpRequest, HttpResponse

    class DeadlineRetry(RetryPolicy[HttpRequest, HttpResponse]):
        def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
            if not super().is_retry(settings, response):
                return False
            after = self.get_retry_after(response)
            wait = after if after is not None else self.get_backoff_time(settings)
            return deadline.fits(wait)

        def increment(
            self,
            settings: dict[str, Any],
            response: Any = None,
            error: Exception | None = None,
        ) -> bool:
            # an error (reset, time-out) is retried only while a retry still fits
            return super().increment(settings, response=response, error=error) and (
                error is None or deadline.fits(self.get_backoff_time(settings))
            )

        def send(self, request: PipelineRequest[HttpRequest]) -> PipelineResponse[Any, Any]:
            tally = request.context.options.pop("tally", None)
            try:
                return super().send(request)
            finally:
                if isinstance(tally, Tally):
                    tally.attempts = int(request.context.get("retry_count", 0)) + 1

    return DeadlineRetry


RETRY_SETTINGS: dict[str, Any] = {
    "retry_total": MAX_RETRIES,
    "retry_backoff_factor": BACKOFF_FACTOR_S,
    "retry_backoff_max": BACKOFF_MAX_S,
}


def retry_policy() -> RetryPolicy[HttpRequest, HttpResponse]:
    """The retry policy of our pipelines: at most MAX_RETRIES retries, within the deadline."""
    return retry_class()(**RETRY_SETTINGS)
