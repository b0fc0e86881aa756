"""A fault for a while (`SERVICE:KIND:Ns`): the throttle of the `throttled` scenario, on the wire.

ARM answers a throttled request 429 with `Retry-After`, "the number of seconds your application
should wait (or sleep) before sending the next request"
(https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling);
Graph the same (https://learn.microsoft.com/graph/throttling). A window's 429 says how long is left.
"""

from __future__ import annotations

import time

import pytest
import requests

from diagnose.lab import Lab
from diagnose.lab.faults import BadFault, parse_fault
from diagnose.lab.scenarios import SCENARIO_OBJECTS, THROTTLE_S
from tests.lab.sdk import StartLab

METADATA = "/metadata/endpoints?api-version=2022-09-01"  # ARM: JSON, no token needed


def get(lab: Lab, service: str, path: str) -> requests.Response:
    return requests.get(lab.urls[service] + path, verify=lab.ca_cert, timeout=10)


def test_a_window_faults_every_request_until_it_ends_and_says_how_long_is_left(
    faulty: StartLab,
) -> None:
    lab = faulty("arm:429:2s")
    first = get(lab, "arm", METADATA)
    assert first.status_code == 429 and first.json()["error"]["code"] == "TooManyRequests"
    assert first.headers["Retry-After"] == "2"
    again = get(lab, "arm", METADATA)  # a client that does not wait is refused again
    assert again.status_code == 429 and 1 <= int(again.headers["Retry-After"]) <= 2
    time.sleep(int(again.headers["Retry-After"]))  # waiting out what it said is enough
    assert get(lab, "arm", METADATA).status_code == 200
    assert [r.fault for r in lab.requests] == ["429", "429", None]


def test_the_throttled_scenario_throttles_arm_and_graph_only(faulty: StartLab) -> None:
    lab = faulty(scenario="throttled")
    assert SCENARIO_OBJECTS["throttled"].faults == (
        f"arm:429:{THROTTLE_S}s",
        f"graph:429:{THROTTLE_S}s",
    )
    arm = get(lab, "arm", METADATA)
    graph = get(lab, "graph", "/v1.0/servicePrincipals")
    assert (arm.status_code, graph.status_code) == (429, 429)
    assert 1 <= int(arm.headers["Retry-After"]) <= THROTTLE_S
    assert graph.json()["error"]["code"] == "TooManyRequests"
    assert (
        get(lab, "vault", "/keys/cmk").status_code == 401
    )  # Key Vault's challenge, not a throttle


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("arm:429:0s", "COUNT must be a whole number from 1, or seconds"),
        ("arm:429:xs", "COUNT must be a whole number from 1, or seconds"),
        ("arm:429:601s", "at most 600s"),
        ("arm:wrong-cert:3s", "a window in seconds does not apply"),
    ],
)
def test_bad_windows_are_refused(spec: str, message: str) -> None:
    with pytest.raises(BadFault, match=message):
        parse_fault(spec)


def test_a_window_and_a_count_read_apart() -> None:
    assert (parse_fault("graph:429:5s").window_s, parse_fault("graph:429:5s").count) == (5.0, None)
    assert (parse_fault("graph:429:5").window_s, parse_fault("graph:429:5").count) == (None, 5)
