"""Throttling as Azure does it: ARM's per-subscription read bucket and Resource Graph's quota in
the fleet lab (their published shapes), and a throttled fleet run that still ends inside
--timeout with every account decided or named undecided."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests
from azure.identity import ClientSecretCredential

from diagnose.lab import Lab
from diagnose.lab.services.resourcegraph import PATH
from tests.harness import Cli


def bearer(lab: Lab) -> dict[str, str]:
    credential = ClientSecretCredential(
        lab.env["AZURE_TENANT_ID"],
        lab.env["AZURE_CLIENT_ID"],
        lab.env["AZURE_CLIENT_SECRET"],
        authority=lab.urls["entra"],
        disable_instance_discovery=True,
        connection_verify=lab.ca_bundle,
    )
    token = credential.get_token(lab.urls["arm"] + "/.default").token
    return {"Authorization": f"Bearer {token}"}


def test_resource_graph_states_and_enforces_its_quota(lab: Callable[..., Lab]) -> None:
    started = lab("fleet-throttled")  # 1 query per 5 s window
    url = started.urls["arm"] + PATH.replace("\\", "") + "?api-version=2024-04-01"
    body = {"query": "Resources | where type =~ 'microsoft.keyvault/vaults' | project id"}
    headers = bearer(started)
    first = requests.post(url, json=body, headers=headers, verify=started.ca_bundle, timeout=10)
    assert first.status_code == 200
    assert first.headers["x-ms-user-quota-remaining"] == "0"
    assert first.headers["x-ms-user-quota-resets-after"] in ("00:00:05", "00:00:04")
    second = requests.post(url, json=body, headers=headers, verify=started.ca_bundle, timeout=10)
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "RateLimiting"
    assert second.json()["error"]["details"][0]["code"] == "RateLimiting"
    assert "x-ms-user-quota-resets-after" in second.headers


def test_arm_counts_reads_per_subscription_and_throttles_past_the_bucket(
    lab: Callable[..., Lab],
) -> None:
    started = lab("fleet-throttled")  # 20 reads, refilled 5 a second
    assert started.fleet is not None
    sub = started.fleet.subscription_ids[1]
    url = f"{started.urls['arm']}/subscriptions/{sub}?api-version=2022-12-01"
    headers = bearer(started)
    seen: list[requests.Response] = []
    with requests.Session() as session:
        for _ in range(40):
            seen.append(session.get(url, headers=headers, verify=started.ca_bundle, timeout=10))
            if seen[-1].status_code == 429:
                break
    remaining = [int(r.headers["x-ms-ratelimit-remaining-subscription-reads"]) for r in seen]
    assert seen[0].status_code == 200 and remaining[0] == 19
    assert remaining == sorted(remaining, reverse=True)
    throttled = seen[-1]
    assert throttled.status_code == 429, [r.status_code for r in seen]
    assert throttled.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    assert int(throttled.headers["Retry-After"]) >= 1
    other = started.fleet.subscription_ids[0]  # the bucket is the subscription's own
    ok = requests.get(
        f"{started.urls['arm']}/subscriptions/{other}?api-version=2022-12-01",
        headers=headers,
        verify=started.ca_bundle,
        timeout=10,
    )
    assert ok.status_code == 200


def test_a_throttled_fleet_ends_inside_its_timeout_with_every_account_named(cli: Cli) -> None:
    budget = 25.0
    began = time.monotonic()
    result = cli(
        "run",
        "--all",
        "--lab",
        "fleet-throttled",
        "--timeout",
        str(budget),
        "-o",
        "json",
        env={"DIAGNOSE_LAB_FAULTS": "arm:429:12", "DIAGNOSE_LAB_PROPAGATION_S": "0.05"},
    )
    elapsed = time.monotonic() - began
    assert elapsed < budget + 15, f"{elapsed:.1f} s for a {budget:g} s budget"  # start-up included
    assert result.exit_code in (1, 3), result
    doc = result.json("diagnose/fleet@1")
    assert doc["inventory"]["quota_wait_ms"] > 0  # Resource Graph's quota was waited out
    assert len(doc["accounts"]) == doc["summary"]["accounts"] == 50
    for account in doc["accounts"]:
        assert account["status"] in ("healthy", "failing", "undecided")
        if account["status"] == "undecided":
            assert account["reason"], account["name"]
        if account["status"] == "failing":
            assert account["root_cause"] in ("principal.disabled", "key.disabled")


def test_paced_reads_decide_a_throttled_fleet_that_unpaced_retries_gave_up_on(cli: Cli) -> None:
    """fleet-throttled:150 (ARM: 20 reads per subscription, 5 a second): 16 workers that send
    whatever ARM's header says met 429 three times in a row on most accounts (58 of 150 decided
    in 30 s before pacing, benchmarks/fleet.md); paced by what ARM says is left, and paused by a
    429's Retry-After for every worker at once, none gives up."""
    result = cli(
        "run",
        "--all",
        "--lab",
        "fleet-throttled:150",
        "--timeout",
        "120",
        "-o",
        "json",
        env={"DIAGNOSE_LAB_PROPAGATION_S": "0.05"},
        timeout=180,
    )
    assert result.exit_code == 1, result
    doc = result.json("diagnose/fleet@1")
    undecided = [a["reason"] for a in doc["accounts"] if a["status"] == "undecided"]
    assert undecided == [], undecided[:3]
    assert doc["summary"]["failing"] == 3 and doc["summary"]["healthy"] == 147
    assert doc["pacing"]["arm_wait_ms"] > 0  # the reads did wait for their subscription
