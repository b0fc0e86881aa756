"""Whatever a client sends, the lab answers in the service's own error shape, never a traceback."""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lab.sdk import credential, ims_token, token

SERVICES = ["entra", "graph", "arm", "vault", "cosmos", "ims", "platform"]
AUDIENCE = {
    "graph": "https://graph.microsoft.com",
    "arm": "https://management.azure.com",
    "vault": "https://vault.azure.net",
    "cosmos": "https://cosmos.azure.com",
}
SEGMENTS = st.sampled_from(
    [
        "v1.0",
        "servicePrincipals",
        "subscriptions",
        "providers",
        "Microsoft.Authorization",
        "roleAssignments",
        "keys",
        "cmk",
        "wrapkey",
        "dbs",
        "ajo",
        "im",
        "executions",
        "unitary",
        "oauth2",
        "v2.0",
        "token",
        "ims",
        "token",
        "v3",
        "..",
        "%00",
        "(appId='x')",
        "resourceGroups",
        "rg-ajo-cmk",
        "x" * 300,
    ]
)
BODIES = st.one_of(
    st.just(b""),
    st.binary(max_size=200),
    st.just(b"{"),
    st.just(b"[]"),
    st.just(b"null"),
    st.just(b'{"accountEnabled": 3}'),
    st.just(b'{"alg": "RSA-OAEP", "value": 12}'),
)


@pytest.fixture(scope="module")
def running():
    from diagnose.lab import Lab

    with Lab("healthy", propagation_s=0.05) as lab:
        cred = credential(lab)
        tokens = {svc: token(cred, aud) for svc, aud in AUDIENCE.items()}
        tokens["platform"] = ims_token(lab)
        yield lab, tokens, requests.Session()


def _shape_ok(service: str, status: int, body: object) -> bool:
    if service == "entra" or service == "ims":
        return isinstance(body, dict) and "error" in body
    if service == "cosmos":
        return isinstance(body, dict) and "code" in body and "message" in body
    if service == "platform":
        return isinstance(body, dict) and ("error_code" in body or "type" in body)
    return (
        isinstance(body, dict) and isinstance(body.get("error"), dict) and "code" in body["error"]
    )


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    service=st.sampled_from(SERVICES),
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
    segments=st.lists(SEGMENTS, max_size=6),
    query=st.dictionaries(
        st.sampled_from(["api-version", "$filter", "scope"]), st.text(max_size=30), max_size=2
    ),
    body=BODIES,
    authenticated=st.booleans(),
)
def test_any_request_gets_a_service_shaped_answer(
    running, service, method, segments, query, body, authenticated
):
    lab, tokens, session = running
    url = lab.urls[service] + "/" + "/".join(segments)
    headers = {"Content-Type": "application/json"}
    if authenticated and service in tokens:
        value = tokens[service]
        headers["Authorization"] = (
            f"type=aad&ver=1.0&sig={value}" if service == "cosmos" else f"Bearer {value}"
        )
    resp = session.request(
        method, url, params=query, data=body, headers=headers, verify=lab.ca_bundle, timeout=10
    )
    assert "Traceback" not in resp.text
    assert resp.status_code < 600
    if resp.status_code >= 400:
        assert _shape_ok(service, resp.status_code, json.loads(resp.text)), (
            resp.status_code,
            resp.text[:300],
        )


def test_an_internal_bug_becomes_a_500_in_the_service_shape(running, monkeypatch):
    lab, tokens, session = running
    from diagnose.lab.services.graph import Graph

    def broken(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise RuntimeError("boom")

    monkeypatch.setattr(Graph, "sp_json", broken)
    resp = session.get(
        f"{lab.urls['graph']}/v1.0/servicePrincipals",
        headers={"Authorization": f"Bearer {tokens['graph']}"},
        verify=lab.ca_bundle,
        timeout=10,
    )
    assert resp.status_code == 500
    assert resp.json()["error"]["code"] == "InternalServerError"
    assert "boom" not in resp.text and "Traceback" not in resp.text


def test_broken_clients_leave_no_trace_on_stderr(lab, capfd):
    import contextlib
    import socket
    import ssl
    import time
    import urllib.parse

    lab = lab()
    host, port = (
        urllib.parse.urlsplit(lab.urls["arm"]).hostname,
        urllib.parse.urlsplit(lab.urls["arm"]).port,
    )
    with socket.create_connection((host, port), timeout=5) as raw:  # not TLS at all
        raw.sendall(b"GET / HTTP/1.1\r\n\r\n")
        with contextlib.suppress(OSError):
            raw.recv(100)  # the TLS listener hangs up
    context = ssl.create_default_context(cafile=lab.ca_bundle)
    for payload in (
        b"NOT HTTP\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: 50\r\n\r\nshort",
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
    ):
        with (
            socket.create_connection((host, port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            tls.sendall(payload)
    time.sleep(0.3)
    assert get_ok(lab)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception" not in err


def get_ok(lab) -> bool:
    return (
        requests.get(
            f"{lab.urls['arm']}/metadata/endpoints?api-version=1", verify=lab.ca_bundle, timeout=5
        ).status_code
        == 200
    )
