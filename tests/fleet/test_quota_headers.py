"""Resource Graph's quota headers reach the inventory through `Reply.headers` (the lab's
fleet-throttled quota: one query per 5 s window), and are never rendered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from diagnose import profile as profiles
from diagnose.azure import credential, rest
from diagnose.azure.rest import RESOURCE_GRAPH_API_VERSION as API_VERSION
from diagnose.azure.rest import RESOURCE_GRAPH_PATH as PATH
from diagnose.fleet.inventory import VAULTS_QUERY, QuotaClient
from diagnose.lab import Lab


def test_the_quota_headers_are_seen_through_reply_headers(lab: Callable[..., Lab]) -> None:
    started = lab("fleet-throttled")
    profile = profiles.load(dict(started.env), cwd=Path("/nonexistent"))
    arm = rest.arm(profile, credential.build(profile))
    reply = arm.post(
        PATH, {"api-version": API_VERSION}, {"query": VAULTS_QUERY}, service="Resource Graph"
    )
    assert reply.status == 200, reply.body
    assert reply.headers["x-ms-user-quota-remaining"] == "0"  # names lower-cased
    assert reply.headers["x-ms-user-quota-resets-after"].startswith("00:00:0")
    with pytest.raises(TypeError):
        reply.headers["x-ms-user-quota-remaining"] = "15"  # type: ignore[index]
    assert "quota" not in repr(reply)

    # The spent quota: the first query meets 429 and waits out its reset; its answer says the
    # quota is spent again, so the second query waits before asking instead of meeting 429.
    client = QuotaClient(arm)
    assert client.query(VAULTS_QUERY, {})
    assert client.queries == 2 and client.waited_s > 0
    assert client.query(VAULTS_QUERY, {})
    assert client.queries == 3
