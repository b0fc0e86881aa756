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
    return DefaultAzureCredential(
        exclude_interactive_browser_credential=True,
        **({"tenant_id": tenant} if tenant else {}),
        **common,
    )
