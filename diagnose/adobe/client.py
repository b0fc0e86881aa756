"""Adobe IMS + Experience Platform over HTTPS: fetches, never judges.

Every call has a deadline and answers bounded in size (`diagnose.answers`). Reads (and
IMS token requests) are retried on 429/503, at most twice, honouring `Retry-After` when
it fits the time left; the execution call never is: a diagnostic tool must not resend
it (the service retries internally; a resend risks a duplicate message).

What an answer is worth is decided here, in one place: an error is Adobe's own only in
one of its documented error shapes (`adobe_error_code`); anything else (a gateway's
page, an empty or malformed body, a throttle that outlasted the retries) is an
`UnexpectedAnswer`, the tool's limitation, never a finding about the setup.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from diagnose import deadline
from diagnose.adobe.campaign import check_campaign_shape
from diagnose.answers import (
    Fields,
    MalformedAnswer,
    cap_session,
    refused_in_own_words,
    unexplained_status,
)
from diagnose.azure.problems import transport_reason
from diagnose.errors import CredentialRefused, NotPermitted, Unreachable
from diagnose.profile import Profile

DEFAULT_TIMEOUT_S = 10.0
RETRY_STATUSES = (429, 503)
MAX_RETRIES = 2
BACKOFF_S = (0.3, 0.6)
IMS = "Adobe IMS"
PLATFORM = "Experience Platform"


def adobe_error_code(body: object) -> str | None:
    """Adobe's own error code, when `body` has one of its documented error shapes: the gateway's
    `{"error_code", "message"}`, Experience Platform's problem details `{"type":
    "https://ns.adobe.com/...", "title", "status"}` (the code is the type's last part), IMS's
    `{"error", "error_description"}`."""
    if not isinstance(body, dict):
        return None
    code = body.get("error_code")
    if isinstance(code, str) and code.strip():
        return code
    kind = body.get("type")
    if isinstance(kind, str) and kind.startswith("https://ns.adobe.com/"):
        return kind.rstrip("/").rsplit("/", 1)[-1]
    error = body.get("error")
    if isinstance(error, str) and error.strip():
        return error
    return None


class AdobeError(Exception):
    """An Adobe service refused, in its own error shape (`code`)."""

    def __init__(
        self, message: str, status: int | None = None, body: object = None, url: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.url = url
        self.code = adobe_error_code(body)


def _refused(method: str, path: str, status: int) -> NotPermitted:
    return NotPermitted(
        f"{method} {path} answered {status} (the tool's Adobe credential lacks access)",
        "Adobe API access for the project",
    )


@dataclass
class ExecutionOutcome:
    """What one execution call did. `status` is None when the deadline passed first."""

    kind: str
    request_id: str
    x_request_id: str
    status: int | None
    body: object  # the decoded JSON, or the text when it is not JSON
    elapsed_s: float
    timed_out: bool = False
    execution_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The connection broke after the request went out (reset, remote disconnect, broken chunks):
    # no status, and the service may have received (and may deliver) the call. What broke.
    lost: str | None = None


def _body(response: requests.Response) -> object:
    """The answer's JSON, or the first 2000 characters of an answer that is not JSON."""
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


def _lost_after_sending(exc: requests.RequestException) -> str | None:
    """What broke, when `exc` happened after the connection was made (the request may have
    been received); None when it happened before anything was sent.

    requests wraps urllib3: a failure to connect (refused, DNS, connect time-out, proxy) comes
    as a MaxRetryError (there are no retries), a TLS handshake failure as SSLError; a failure
    on an established connection (reset, remote disconnect) as the bare ProtocolError or OSError,
    a body cut short as ChunkedEncodingError or ContentDecodingError.
    """
    from urllib3.exceptions import MaxRetryError

    if isinstance(
        exc, (requests.ConnectTimeout, requests.exceptions.SSLError, requests.exceptions.ProxyError)
    ):
        return None
    if isinstance(
        exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
    ):
        return f"the answer was cut short ({type(exc).__name__})"
    if isinstance(exc, requests.ConnectionError):
        cause = exc.args[0] if exc.args else None
        if isinstance(cause, MaxRetryError) or cause is None:
            return None
        inner = cause.args[-1] if getattr(cause, "args", None) else cause
        name = type(inner).__name__ if isinstance(inner, BaseException) else type(cause).__name__
        return f"the connection broke after the request was sent ({name})"
    return None  # InvalidURL, InvalidHeader, ...: raised before anything was sent


class AdobeClient:
    def __init__(self, profile: Profile, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.profile = profile
        self.timeout_s = timeout_s
        self._session = cap_session(requests.Session(), "Adobe")
        # Passed on every request: requests lets REQUESTS_CA_BUNDLE override a session's `verify`.
        self._verify: str | bool = profile.ca_bundle or True
        self._token: tuple[str, float] | None = None
        self._token_lock = threading.Lock()

    # --- IMS -----------------------------------------------------------------
    def token(self) -> str:
        with self._token_lock:  # checks running at once share one IMS token
            return self._fetch_token()

    def _fetch_token(self) -> str:
        if self._token and self._token[1] > time.monotonic() + 60:
            return self._token[0]
        creds = self.profile.credentials
        client_id = creds.get("DIAGNOSE_ADOBE_CLIENT_ID")
        secret = creds.get("DIAGNOSE_ADOBE_CLIENT_SECRET")
        if not client_id or not secret:
            raise CredentialRefused(
                "no Adobe credential: set DIAGNOSE_ADOBE_CLIENT_ID and DIAGNOSE_ADOBE_CLIENT_SECRET"
            )
        url = f"{self.profile.ims_url.rstrip('/')}/ims/token/v3"
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": creds.get("DIAGNOSE_ADOBE_SCOPES")
            or "openid,session,AdobeID,read_organizations,additional_info.projectedProductContext",
        }
        response, attempts = self._send("POST", url, data=form, retry=True)
        body = _body(response)
        status = response.status_code
        if status != 200:
            code = adobe_error_code(body)
            if not refused_in_own_words(status, code):
                raise unexplained_status(IMS, status, code, "a token", attempts)
            raise CredentialRefused(f"Adobe IMS refused the tool's credential ({status} {code})")
        answer = Fields.of(body, "Adobe IMS's token answer")
        token = answer.text("access_token")
        lifetime = answer.opt_number("expires_in") or 3600
        self._token = (token, time.monotonic() + float(lifetime))
        return token

    def headers(self, api_key: str | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.token()}",
            "x-api-key": api_key or self.profile.credentials.get("DIAGNOSE_ADOBE_CLIENT_ID", ""),
            "Accept": "application/json",
        }
        if self.profile.ims_org:
            headers["x-gw-ims-org-id"] = self.profile.ims_org
        if self.profile.sandbox:
            headers["x-sandbox-name"] = self.profile.sandbox
        return headers

    # --- reads ---------------------------------------------------------------
    def campaign(self, campaign_id: str) -> dict[str, Any]:
        """The campaign's definition; AdobeError (404) only when Adobe said it does not exist."""
        what = f"the campaign {campaign_id}"
        definition = self._get_json(f"/journey/campaigns/service/campaigns/{campaign_id}", what)
        check_campaign_shape(Fields(definition, f"{PLATFORM}'s answer for {what}"))
        return definition

    def byok_app_registration(self) -> dict[str, Any]:
        what = "the BYOK app registration"
        found = self._get_json(
            "/data/infrastructure/manager/byok/app-registration", what, api_key="acp_provisioning"
        )
        answer = Fields(found, f"{PLATFORM}'s answer for {what}")
        answer.text("applicationId")
        answer.opt_text("name")
        return found

    def byok_config(self, name: str) -> dict[str, Any]:
        what = f"the BYOK configuration {name}"
        found = self._get_json(
            f"/data/infrastructure/manager/customer/config/{name}",
            what,
            params={"configType": "BYOK_CONFIG"},
        )
        answer = Fields(found, f"{PLATFORM}'s answer for {what}")
        answer.text("status")
        data = answer.opt_obj("configData")
        if data is not None:
            data.opt_text("keyVaultKeyIdentifier")
        return found

    # --- the one write ---------------------------------------------------------
    def execute(
        self,
        kind: str,
        payload: dict[str, Any],
        deadline_s: float,
        extra_headers: dict[str, str] | None = None,
    ) -> ExecutionOutcome:
        """One execution call, never retried. The payload's requestId is the caller's choice."""
        url = f"{self._platform}/ajo/im/executions/{kind}"
        # A caller may choose the x-request-id (to record it first); the outcome reports the one sent.
        x_request_id = (extra_headers or {}).get("x-request-id") or str(uuid.uuid4())
        headers = {
            **self.headers(),
            "Content-Type": "application/json",
            "x-request-id": x_request_id,
        }
        headers.update(extra_headers or {})
        started = time.monotonic()
        request_id = str(payload.get("requestId", ""))
        try:
            response = self._session.post(
                url,
                json=payload,
                headers=headers,
                timeout=(min(10.0, deadline_s), deadline_s),
                verify=self._verify,
                allow_redirects=False,  # a redirect is an answer: following it would POST again
            )
            body = _body(response)  # reads the whole body: a broken one is a lost answer too
        except requests.ConnectTimeout:  # never connected: nothing was sent, the tool's reach
            raise Unreachable(f"cannot connect to {url} in time") from None
        except requests.Timeout:  # connected and sent; the answer did not come in time
            return ExecutionOutcome(
                kind,
                request_id,
                x_request_id,
                None,
                None,
                time.monotonic() - started,
                timed_out=True,
            )
        except requests.RequestException as exc:
            reason = _lost_after_sending(exc)
            if reason is None:  # refused, DNS, TLS handshake, proxy: nothing was sent
                raise Unreachable(
                    f"cannot reach {url}: {type(exc).__name__} (nothing was sent)"
                ) from None
            return ExecutionOutcome(
                kind,
                request_id,
                x_request_id,
                None,
                None,
                time.monotonic() - started,
                lost=reason,
            )
        outcome = ExecutionOutcome(
            kind,
            request_id,
            x_request_id,
            response.status_code,
            body,
            time.monotonic() - started,
            headers={
                k.lower(): v
                for k, v in response.headers.items()
                if k.lower().startswith("x-") or k.lower() == "location"
            },
        )
        if isinstance(body, dict):
            outcome.execution_id = body.get("executionId")
        return outcome

    # --- plumbing --------------------------------------------------------------
    @property
    def _platform(self) -> str:
        return self.profile.platform_url.rstrip("/")

    def _get_json(
        self,
        path: str,
        what: str,
        api_key: str | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A JSON object read from Experience Platform (retried on 429/503 within the deadline)."""
        url = f"{self._platform}{path}"
        response, attempts = self._send(
            "GET", url, headers=self.headers(api_key), params=params, retry=True
        )
        body = _body(response)
        status = response.status_code
        code = adobe_error_code(body)
        if status == 200:
            if isinstance(body, dict):
                return body
            raise MalformedAnswer(
                f"{PLATFORM}'s answer for {what} was "
                + ("empty" if body in ("", None) else "not a JSON object")
            )
        if not refused_in_own_words(status, code):
            raise unexplained_status(PLATFORM, status, code, what, attempts)
        if status in (401, 403):
            raise _refused("GET", path, status)
        raise AdobeError(f"GET {path} answered {status} ({code})", status, body, url)

    def _send(
        self,
        method: str,
        url: str,
        *,
        retry: bool = False,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> tuple[requests.Response, int]:
        """(the answer, how many attempts it took). With `retry`, a 429 or 503 is sent again, at
        most MAX_RETRIES times, when the wait (its Retry-After, else a short back-off) fits the
        time left."""
        attempts = 0
        while True:
            attempts += 1
            timeout = deadline.bounded(self.timeout_s)
            try:
                response = self._session.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    data=data,
                    timeout=timeout,
                    verify=self._verify,
                )
            except requests.Timeout:
                raise Unreachable(f"{url} did not answer within {timeout:g} s") from None
            except requests.RequestException as exc:
                raise Unreachable(f"{transport_reason(exc)} ({url})") from None
            if not retry or response.status_code not in RETRY_STATUSES or attempts > MAX_RETRIES:
                return response, attempts
            wait = _retry_after(response) or BACKOFF_S[attempts - 1]
            if not deadline.fits(wait):
                return response, attempts
            response.close()
            time.sleep(wait)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 3600 else None
