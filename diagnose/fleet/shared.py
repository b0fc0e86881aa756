"""One account's check context whose reads are the whole fleet's: each vault, key and principal
is read once however many accounts use it, and every account uses the same tokens.

The checks already read through `Context.memo` (diagnose/checks/reads.py): ARM resources and
listings by their path, Graph principals by theirs, the clients and the credential by name. A
fleet context sends those to one store shared by every account; the Key Vault data-plane reads,
which the checks key by what they are rather than by the key's URI, are keyed by the account's
key URI there. The facts and results stay the account's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from diagnose.checks.base import Context, RunOptions
from diagnose.profile import Profile

T = TypeVar("T")
PER_KEY = ("keyvault:",)  # memo keys that name no resource: one entry per key URI


class FleetContext(Context):
    """`shared` is the fleet's one store of reads: a context of its own (its clients sign in once)."""

    def __init__(self, profile: Profile, options: RunOptions, shared: Context) -> None:
        super().__init__(profile, options)
        self.shared = shared

    def memo(self, key: str, fetch: Callable[[], T]) -> T:
        if key.startswith(PER_KEY):
            key = f"{key}@{(self.profile.key_id or '').lower()}"
        return self.shared.memo(key, fetch)
