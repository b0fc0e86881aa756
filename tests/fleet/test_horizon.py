"""The horizon's key notices come from the key resource ARM answered, never from an answer that is
not one (a bare status, a throttle that outlasted the retries): that is a limitation of the
horizon, said once per key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from diagnose.azure.rest import Reply
from diagnose.fleet.horizon import key_expiries

VAULT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
KEY_ID = "https://kv.vault.azure.net/keys/cmk"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


class Store:
    """A check context's store of reads holding one ARM answer for the key."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply

    def memo(self, key: str, fetch: Any) -> Reply:
        assert key == f"arm:{VAULT}/keys/cmk".lower()
        return self.reply


def report(account: str) -> Any:
    key = SimpleNamespace(
        id="keyvault.key", evidence={"key": "cmk", "exp": (NOW + timedelta(days=10)).isoformat()}
    )
    return account, SimpleNamespace(
        checks=[key], profile=SimpleNamespace(key_id=KEY_ID, keyvault_id=VAULT)
    )


def test_a_key_without_rotation_is_a_notice_with_every_account_using_it() -> None:
    body = {"properties": {"attributes": {"enabled": True}}}
    store = Store(Reply(200, body, f"{VAULT}/keys/cmk"))
    notices, limits = key_expiries(store, [report("a1"), report("a2")], NOW, timedelta(days=30))  # type: ignore[arg-type]
    assert [(n.kind, n.accounts) for n in notices] == [("key-expiry", ["a1", "a2"])]
    assert limits == []


@pytest.mark.parametrize(
    "reply",
    [
        Reply(500, "<html>gateway</html>", f"{VAULT}/keys/cmk", attempts=3),
        Reply(429, {"error": {"code": "TooManyRequests", "message": "x"}}, "u", attempts=3),
        Reply(404, None, f"{VAULT}/keys/cmk"),
    ],
    ids=["bare-500", "throttled", "bare-404"],
)
def test_an_answer_that_is_not_the_key_is_a_limitation_never_a_notice(reply: Reply) -> None:
    notices, limits = key_expiries(
        Store(reply),  # type: ignore[arg-type]
        [report("a1"), report("a2")],
        NOW,
        timedelta(days=30),
    )
    assert notices == []
    assert len(limits) == 1 and "the key cmk" in limits[0], limits
