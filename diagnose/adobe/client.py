"""Adobe IMS + Experience Platform over HTTPS: fetches, never judges.

Every call has a deadline and no automatic retry: a diagnostic tool must not
resend an execution call (the service retries internally; a resend risks a
duplicate message).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from diagnose.errors import CredentialRefused, NotPermitted, Unreachable
from diagnose.profile import Profile

DEFAULT_TIMEOUT_S = 10.0


class AdobeError(Exception):
    """An Adobe service answered with an error status."""

    def __init__(
        self, message: str, status: int | None = None, body: object = None, url: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.url = url


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
        self._session = requests.Session()
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
        response = self._send("POST", url, data=form, timeout=self.timeout_s)
        body = _body(response)
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            error = body.get("error") if isinstance(body, dict) else None
            raise CredentialRefused(
                f"Adobe IMS refused the tool's credential ({response.status_code} {error or ''})".strip()
            )
        self._token = (body["access_token"], time.monotonic() + float(body.get("expires_in", 3600)))
        return body["access_token"]

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
        return self._get_json(f"/journey/campaigns/service/campaigns/{campaign_id}")

    def byok_app_registration(self) -> dict[str, Any]:
        return self._get_json(
            "/data/infrastructure/manager/byok/app-registration", api_key="acp_provisioning"
        )

    def byok_config(self, name: str) -> dict[str, Any]:
        return self._get_json(
            f"/data/infrastructure/manager/customer/config/{name}",
            params={"configType": "BYOK_CONFIG"},
        )

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
        self, path: str, api_key: str | None = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        url = f"{self._platform}{path}"
        response = self._send(
            "GET", url, headers=self.headers(api_key), params=params, timeout=self.timeout_s
        )
        body = _body(response)
        if response.status_code in (401, 403):
            raise _refused("GET", path, response.status_code)
        if response.status_code != 200:
            raise AdobeError(
                f"GET {path} answered {response.status_code}", response.status_code, body, url
            )
        if not isinstance(body, dict):
            raise AdobeError(
                f"GET {path} did not answer a JSON object", response.status_code, body, url
            )
        return body

    def _send(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> requests.Response:
        try:
            return self._session.request(
                method,
                url,
                headers=headers,
                params=params,
                data=data,
                timeout=timeout,
                verify=self._verify,
            )
        except requests.Timeout:
            raise Unreachable(f"{url} did not answer within {self.timeout_s:g} s") from None
        except requests.RequestException as exc:
            raise Unreachable(f"cannot reach {url}: {type(exc).__name__}") from None
