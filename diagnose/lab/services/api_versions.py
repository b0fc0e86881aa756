"""Which api-versions ARM accepts for each resource type the lab serves, and how it refuses others.

The lists are `api_versions.json`, generated from the Azure REST API specifications by
scripts/gen_api_versions.py (source and commits in the file). The refusals follow the texts real
tenants got (docs/research/published-behaviour.md §9): a provider's type answers 400
`NoRegisteredProviderFound`, ARM's own types (subscriptions, resource groups, tenants) and
role assignments/definitions answer 400 `InvalidApiVersionParameter`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

# ARM's own words (docs/research/published-behaviour.md §9).
MISSING = (
    "MissingApiVersionParameter",
    "The api-version query parameter (?api-version=) is required for all requests.",
)

_DATA = Path(__file__).with_name("api_versions.json")
_ARM_OWN = ("microsoft.resources/", "microsoft.authorization/")
_EXTENSION = re.compile(
    r"/providers/(Microsoft\.Authorization/role(?:Assignments|Definitions))", re.I
)
_PROVIDER = re.compile(r".*/providers/([^/]+)/(.+)$", re.I)


@cache
def published() -> dict[str, list[str]]:
    """Lower-case resource type -> its api-versions, oldest first."""
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    return {rtype.lower(): list(versions) for rtype, versions in data["types"].items()}


def resource_type(path: str) -> str | None:
    """The resource type an ARM path addresses (a list's path: the type listed), as the path
    spells it, or None."""
    bare = path.split("?", 1)[0].rstrip("/")
    low = [p.lower() for p in bare.split("/") if p]
    if m := _EXTENSION.search(bare):
        return m.group(1)
    if low[:1] == ["tenants"]:
        return "Microsoft.Resources/tenants"
    if low[:1] == ["subscriptions"] and len(low) <= 2:
        return "Microsoft.Resources/subscriptions"
    if len(low) in (3, 4) and low[0] == "subscriptions" and low[2] == "resourcegroups":
        return "Microsoft.Resources/resourceGroups"
    m = _PROVIDER.match(bare)
    if m is None:
        return None
    types = m.group(2).split("/")[0::2]  # type/name/child-type/name/...
    return f"{m.group(1)}/{'/'.join(types)}"


def refusal(path: str, api_version: str, location: str) -> tuple[str, str] | None:
    """ARM's (code, message) refusing `api_version` for the type at `path`; None when accepted
    (or when the lab does not know the type: its own 404 answers that)."""
    rtype = resource_type(path) or ""
    versions = published().get(rtype.lower())
    if not versions or api_version.lower() in (v.lower() for v in versions):
        return None
    if rtype.lower().startswith(_ARM_OWN):
        return invalid(api_version, versions)
    return (
        "NoRegisteredProviderFound",
        f"No registered resource provider found for location '{location}' and API version "
        f"'{api_version}' for type '{rtype.split('/', 1)[1]}'. The supported api-versions are "
        f"'{', '.join(versions)}'. The supported locations are '{location}'.",
    )


def invalid(api_version: str, versions: Sequence[str]) -> tuple[str, str]:
    """ARM's (code, message) for an api-version a type of its own does not list (`versions`
    oldest first; the message lists them newest first, comma-separated, as real tenants saw)."""
    listed = ",".join(reversed(versions))
    return (
        "InvalidApiVersionParameter",
        f"The api-version '{api_version}' is invalid. The supported versions are '{listed}'.",
    )


def unsupported(api_version: str, versions: Sequence[str]) -> tuple[str, str] | None:
    """`invalid` when `api_version` is not one of `versions`, else None: for the lab's services
    that are not resource types (the Activity Log, Resource Graph), each with its own list."""
    return None if api_version in versions else invalid(api_version, versions)
