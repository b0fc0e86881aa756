"""Build the diagnosing identity's credential from a profile (explicit service principal or the chain)."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from diagnose.azure import pipeline, quiet_sdk_logs
from diagnose.profile import Profile

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, TokenCredential


def build(profile: Profile) -> TokenCredential:
    """A TokenCredential. Bounded retries (a refusal is never retried, so it fails fast)."""
    from azure.identity import CertificateCredential, ClientSecretCredential, DefaultAzureCredential

    quiet_sdk_logs()
    common: dict[str, object] = {
        "authority": profile.cloud.authority,
        **pipeline.RETRY_SETTINGS,  # Entra ID's refusals are not retried; its 429/5xx are
        "transport": pipeline.transport(profile, "Entra ID"),
    }
    if profile.is_custom_cloud:
        common["disable_instance_discovery"] = True
    creds = profile.credentials
    tenant = profile.tenant_id
    client_id = creds.get("AZURE_CLIENT_ID")
    # An explicit service principal's pipeline also waits out a Retry-After only when it fits
    # (the chain's managed identity credential brings its own retry policy class).
    explicit = {**common, "retry_policy_class": pipeline.retry_class()}
    if client_id and tenant and creds.get("AZURE_CLIENT_SECRET"):
        return ClientSecretCredential(tenant, client_id, creds["AZURE_CLIENT_SECRET"], **explicit)
    if client_id and tenant and creds.get("AZURE_CLIENT_CERTIFICATE_PATH"):
        password = creds.get("AZURE_CLIENT_CERTIFICATE_PASSWORD")
        return CertificateCredential(
            tenant,
            client_id,
            creds["AZURE_CLIENT_CERTIFICATE_PATH"],
            password=password.encode() if password else None,
            **explicit,
        )
    tenants = (
        {
            f"{name}_tenant_id": tenant
            for name in ("workload_identity", "shared_cache", "visual_studio_code")
        }
        if tenant
        else {}
    )
    # DefaultAzureCredential refuses tenant_id; each credential of the chain takes its own.
    return DefaultAzureCredential(exclude_interactive_browser_credential=True, **tenants, **common)


class SharedTokens:
    """A TokenCredential that asks for each scope once, however many checks want it at the same moment.

    The SDK credentials cache tokens, but concurrent first requests for one scope
    each go to Entra ID; a run starts a dozen checks at once.
    """

    def __init__(
        self, inner: TokenCredential, tenant_id: str | None = None, refresh_margin_s: int = 300
    ) -> None:
        self._inner = inner
        self._tenant_id = (tenant_id or "").lower()
        self._margin = refresh_margin_s
        self._tokens: dict[tuple[str, ...], AccessToken] = {}
        self._locks: dict[tuple[str, ...], threading.Lock] = {}
        self._guard = threading.Lock()

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,  # the SDK's further options, passed through
    ) -> AccessToken:
        if self._tenant_id and (tenant_id or "").lower() == self._tenant_id:
            tenant_id = None  # Key Vault's challenge names our own tenant: share its token
        key = (*scopes, tenant_id or "", claims or "")
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            token = self._tokens.get(key)
            if token is None or token.expires_on - self._margin <= time.time():
                token = self._tokens[key] = self._inner.get_token(
                    *scopes, claims=claims, tenant_id=tenant_id, enable_cae=enable_cae, **kwargs
                )
            return token

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close:
            close()
