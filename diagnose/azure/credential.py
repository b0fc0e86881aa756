"""Build the diagnosing identity's credential from a profile (explicit service principal or the chain)."""

from __future__ import annotations

import logging
from typing import Any

from diagnose.profile import Profile


def transport_kwargs(profile: Profile) -> dict[str, Any]:
    """TLS trust for every azure-core based client: the profile's CA bundle, if any."""
    return {"connection_verify": profile.ca_bundle} if profile.ca_bundle else {}


def build(profile: Profile) -> Any:
    """A TokenCredential. Bounded retries: a refused credential must fail fast, not after 5 s."""
    from azure.identity import CertificateCredential, ClientSecretCredential, DefaultAzureCredential

    logging.getLogger("azure.identity").setLevel(logging.ERROR)
    logging.getLogger("msal").setLevel(logging.ERROR)
    common: dict[str, Any] = {
        "authority": profile.cloud.authority,
        "retry_total": 1,
        "retry_backoff_factor": 0.2,
        **transport_kwargs(profile),
    }
    if profile.is_custom_cloud:
        common["disable_instance_discovery"] = True
    creds = profile.credentials
    tenant = profile.tenant_id
    client_id = creds.get("AZURE_CLIENT_ID")
    if client_id and tenant and creds.get("AZURE_CLIENT_SECRET"):
        return ClientSecretCredential(tenant, client_id, creds["AZURE_CLIENT_SECRET"], **common)
    if client_id and tenant and creds.get("AZURE_CLIENT_CERTIFICATE_PATH"):
        password = creds.get("AZURE_CLIENT_CERTIFICATE_PASSWORD")
        return CertificateCredential(
            tenant,
            client_id,
            creds["AZURE_CLIENT_CERTIFICATE_PATH"],
            password=password.encode() if password else None,
            **common,
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

    def __init__(self, inner: Any, tenant_id: str | None = None, refresh_margin_s: int = 300):
        self._inner = inner
        self._tenant_id = (tenant_id or "").lower()
        self._margin = refresh_margin_s
        self._tokens: dict[tuple[str, ...], Any] = {}
        self._locks: dict[tuple[str, ...], Any] = {}
        import threading

        self._guard = threading.Lock()

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        import threading
        import time

        if self._tenant_id and str(kwargs.get("tenant_id") or "").lower() == self._tenant_id:
            kwargs.pop("tenant_id")  # Key Vault's challenge names our own tenant: share its token
        key = (*scopes, str(kwargs.get("tenant_id") or ""), str(kwargs.get("claims") or ""))
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            token = self._tokens.get(key)
            if token is None or token.expires_on - self._margin <= time.time():
                token = self._tokens[key] = self._inner.get_token(*scopes, **kwargs)
            return token

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close:
            close()
