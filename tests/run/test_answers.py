"""Evidence or limitation, one service at a time: the real clients (azure-core pipelines, the Key Vault
SDK's, requests for Adobe) against the lab's faults, in process, read through the checks' own reads.

A fault's answer (a gateway's 404 page, `{}`, a throttle that outlasts the retries) must become a
limitation that says what happened, never a finding; the same service's own words (its error code,
a well-formed field) stay evidence. Retries: at most two, `Retry-After` waited out only when it fits
the time left, the execution call never resent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from diagnose import deadline
from diagnose import profile as profiles
from diagnose.adobe.client import AdobeError
from diagnose.answers import MalformedAnswer, UnexpectedAnswer
from diagnose.checks import reads
from diagnose.checks.base import Context, RunOptions
from diagnose.checks.campaign import check_window
from diagnose.checks.keyvault import check_key, check_unwrap, check_vault
from diagnose.checks.principal import check_principal
from diagnose.errors import ToolLimitation
from diagnose.lab import Lab

FaultyLab = Callable[..., Lab]


@pytest.fixture
def faulty() -> Iterator[FaultyLab]:
    """Factory: `faulty("vault:503", scenario="healthy")` -> a started lab with those faults."""
    started: list[Lab] = []

    def start(*faults: str, scenario: str = "healthy") -> Lab:
        instance = Lab(scenario, faults=list(faults), propagation_s=0.05).start()
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()


def context(lab: Lab) -> Context:
    return Context(profiles.load(dict(lab.env), cwd=Path("/nonexistent")), RunOptions())


def requests_to(lab: Lab, service: str, path_part: str, method: str = "GET") -> list[object]:
    return [
        r
        for r in lab.requests
        if r.service == service and path_part in r.path and r.method == method
    ]


# -- ARM ------------------------------------------------------------------------------------------------


def test_a_gateway_404_is_not_a_missing_key_but_arm_saying_so_is(faulty: FaultyLab) -> None:
    with pytest.raises(UnexpectedAnswer, match=r"ARM answered 404 without an error code .*gateway"):
        check_key(context(faulty("arm:gateway-404@/keys/")))
    missing = check_key(context(faulty(scenario="key-not-found")))  # ARM's ResourceNotFound
    assert [f.code for f in missing.findings] == ["key.not-found"]


@pytest.mark.parametrize(
    ("fault", "check", "said"),
    [
        (
            "arm:empty-200@/vaults/[^/]+$",
            check_vault,
            "ARM answered 200 with an empty body for the vault",
        ),
        # the lab's malformed-200 is `{}` or wrong types, fixed per path (docs/lab.md): one of each
        (
            "arm:malformed-200@/vaults/[^/]+$",
            check_vault,
            "ARM's answer for the vault had no `properties`",
        ),
        (
            "arm:malformed-200@/keys/",
            check_key,
            "ARM's answer for the key cmk: `properties.attributes.nbf` is a string, not a number",
        ),
    ],
)
def test_an_empty_or_malformed_arm_answer_gives_no_finding(
    faulty: FaultyLab, fault: str, check: Callable[[Context], object], said: str
) -> None:
    with pytest.raises(MalformedAnswer) as caught:
        check(context(faulty(fault)))
    assert str(caught.value) == said


def test_a_throttled_arm_read_is_retried_twice_then_named(faulty: FaultyLab) -> None:
    lab = faulty("arm:503@/vaults/[^/]+$")
    with pytest.raises(UnexpectedAnswer, match="ARM answered 503 three times for the vault"):
        reads.vault(context(lab))
    assert len([r for r in lab.requests if r.service == "arm" and r.fault == "503"]) == 3
    passed = check_vault(context(faulty("arm:503:2@/vaults/[^/]+$")))
    assert passed.findings == []


# -- Graph ----------------------------------------------------------------------------------------------


def test_graph_answering_an_empty_object_does_not_make_the_principal_enabled(
    faulty: FaultyLab,
) -> None:
    lab = faulty("graph:empty-200@servicePrincipals", scenario="sp-disabled")
    with pytest.raises(ToolLimitation, match="Microsoft Graph"):
        check_principal(context(lab))
    # `{}` rather than an empty body: accountEnabled absent is not "enabled"
    disabled = check_principal(context(faulty(scenario="sp-disabled")))
    assert [f.code for f in disabled.findings] == ["principal.disabled"]


def test_graph_without_account_enabled_is_a_limitation_naming_the_field(faulty: FaultyLab) -> None:
    lab = faulty("graph:malformed-200@servicePrincipals", scenario="sp-disabled")
    with pytest.raises(
        MalformedAnswer, match=r"Microsoft Graph's answer for the service principal"
    ):
        check_principal(context(lab))


def test_a_gateway_404_from_graph_is_not_a_deleted_principal(faulty: FaultyLab) -> None:
    lab = faulty("graph:gateway-404@servicePrincipals")
    with pytest.raises(
        UnexpectedAnswer, match="Microsoft Graph answered 404 without an error code"
    ):
        check_principal(context(lab))
    deleted = check_principal(context(faulty(scenario="sp-deleted")))  # Request_ResourceNotFound
    assert [f.code for f in deleted.findings] == ["principal.deleted"]


# -- Key Vault ------------------------------------------------------------------------------------------


def _unwrap(lab: Lab) -> object:
    ctx = context(lab)
    check_key(ctx)  # provides key.usable
    return check_unwrap(ctx)


@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "truncated", "garbled", "html-error"])
def test_a_transient_or_broken_key_vault_answer_is_never_unwrap_failed(
    faulty: FaultyLab, kind: str
) -> None:
    with pytest.raises(ToolLimitation) as caught:
        _unwrap(faulty(f"vault:{kind}"))
    assert "Key Vault" in str(caught.value)


def test_key_vault_throttling_is_named_with_its_count(faulty: FaultyLab) -> None:
    with pytest.raises(UnexpectedAnswer, match="Key Vault answered 503 three times"):
        _unwrap(faulty("vault:503"))


def test_two_key_vault_throttles_are_absorbed_by_the_retries(faulty: FaultyLab) -> None:
    lab = faulty("vault:429:2")
    outcome = _unwrap(lab)
    assert getattr(outcome, "findings", None) == []
    assert len([r for r in lab.requests if r.fault == "429"]) == 2


def test_a_retry_after_that_does_not_fit_the_time_left_is_not_waited_out(
    faulty: FaultyLab,
) -> None:
    lab = faulty("vault:429")  # Retry-After: 1 s; with 1.5 s left, 1 s + the request does not fit
    ctx = context(lab)
    check_key(ctx)
    started = time.monotonic()
    with deadline.until(time.monotonic() + 1.5), pytest.raises(UnexpectedAnswer) as caught:
        check_unwrap(ctx)
    assert "answered 429 once" in str(caught.value) and "did not fit" in str(caught.value)
    assert time.monotonic() - started < 1.0
    assert len([r for r in lab.requests if r.service == "vault" and r.fault == "429"]) == 1


@pytest.mark.parametrize("status", [501, 504, 505, 507])
def test_a_key_vault_5xx_in_its_own_error_shape_is_a_limitation(status: int) -> None:
    # the lab's faults send only 500/502/503: the other 5xx, read as Key Vault's reply would be
    from diagnose.azure.keyvault import _refusal_or_problem
    from diagnose.azure.rest import Reply

    body = {"error": {"code": "InternalError", "message": "the service failed"}}
    reply = Reply(status, body, "https://vault.example/keys/cmk", "Key Vault")
    answer = _refusal_or_problem(reply, "unwrapkey with the key cmk")
    assert isinstance(answer, UnexpectedAnswer)
    assert str(answer).startswith(f"Key Vault answered {status} ")
    assert "for unwrapkey with the key cmk (InternalError" in str(answer)
    # its own refusal of a request (a 4xx with its code) stays evidence
    refusal = _refusal_or_problem(Reply(409, body, reply.url, "Key Vault"), "unwrapkey")
    assert (
        not isinstance(refusal, ToolLimitation)
        and getattr(refusal, "code", None) == "InternalError"
    )


def test_key_vault_saying_key_not_found_is_still_a_finding(faulty: FaultyLab) -> None:
    lab = faulty(scenario="healthy")
    ctx = context(lab)
    check_key(ctx)
    lab.world.vault.keys[reads.key_name(ctx)].deleted = True  # gone on the data plane only
    outcome = check_unwrap(ctx)
    assert [f.code for f in outcome.findings] == ["key.not-found"]
    assert outcome.findings[0].evidence["code"] == "KeyNotFound"


# -- Adobe ----------------------------------------------------------------------------------------------


def test_a_gateway_404_is_not_a_missing_campaign(faulty: FaultyLab) -> None:
    lab = faulty("platform:gateway-404@campaigns")
    with pytest.raises(
        UnexpectedAnswer, match="Experience Platform answered 404 without an error code"
    ):
        context(lab).adobe.campaign(lab.env["DIAGNOSE_CAMPAIGN_ID"])
    with pytest.raises(AdobeError) as missing:  # the platform's own 404, in its error shape
        context(faulty()).adobe.campaign("no-such-campaign")
    assert missing.value.status == 404 and missing.value.code == "MSG-000404-404"


def test_an_empty_campaign_is_not_a_live_one(faulty: FaultyLab) -> None:
    lab = faulty("platform:empty-200@campaigns")
    with pytest.raises(MalformedAnswer, match="Experience Platform's answer for the campaign"):
        check_window(context(lab))


def test_campaign_reads_retry_on_503_but_the_execution_is_sent_once(faulty: FaultyLab) -> None:
    lab = faulty("platform:503:2@campaigns", "platform:503@executions")
    ctx = context(lab)
    assert check_window(ctx).findings == []
    assert len(requests_to(lab, "platform", "/campaigns/")) == 3
    payload = {"campaignId": lab.env["DIAGNOSE_CAMPAIGN_ID"], "requestId": "r-1", "recipients": []}
    outcome = ctx.adobe.execute("unitary", payload, 10.0)
    assert outcome.status == 503
    assert len(requests_to(lab, "platform", "/executions/", method="POST")) == 1
