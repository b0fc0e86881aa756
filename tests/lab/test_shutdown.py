"""stop() ends every connection's thread, even a client's that connected but never did the TLS handshake."""

from __future__ import annotations

import socket
import threading
import time

from diagnose.lab import Lab


def test_half_open_clients_do_not_outlive_stop() -> None:
    lab = Lab("healthy").start()
    server = lab._server  # this lab's connection threads only: other tests leave threads behind
    baseline = 0

    def lab_threads() -> int:
        name = f"lab-connection:{id(server)}"
        return sum(1 for t in threading.enumerate() if t.name == name and t.is_alive())

    host, port = lab.urls["arm"].removeprefix("https://").rsplit(":", 1)
    sockets = [socket.create_connection((host, int(port))) for _ in range(10)]
    try:
        deadline = time.monotonic() + 5
        while lab_threads() < baseline + 10 and time.monotonic() < deadline:
            time.sleep(0.05)  # the lab has taken the connections
        assert lab_threads() >= baseline + 10
        lab.stop()
        deadline = time.monotonic() + 5  # well under the 30 s socket time-out they used to wait for
        while lab_threads() > baseline and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lab_threads() <= baseline
    finally:
        for s in sockets:
            s.close()


def test_error_bodies_carry_the_payloads_request_id_without_the_header(lab) -> None:
    import requests

    from tests.lab import sdk

    running = lab("sp-disabled")
    headers = sdk.adobe_headers(running, sdk.ims_token(running))
    headers.pop("x-request-id", None)
    response = requests.post(
        f"{running.env['DIAGNOSE_PLATFORM_URL']}/ajo/im/executions/unitary",
        json=sdk.payload(running, "req-from-payload"),
        headers=headers,
        verify=running.ca_bundle,
        timeout=10,
    )
    assert response.status_code == 500
    assert response.json()["report"]["additionalContext"]["requestId"] == "req-from-payload"


def test_malformed_framing_gets_a_400_in_the_service_shape(lab) -> None:
    import json
    import ssl

    running = lab("healthy")
    host, port = running.urls["arm"].removeprefix("https://").rsplit(":", 1)
    context = ssl.create_default_context(cafile=running.ca_cert)
    for header in (b"Content-Length: abc", b"Content-Length: -5", b"Transfer-Encoding: chunked"):
        with (
            socket.create_connection((host, int(port))) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            body = b"\r\n-5\r\n" if b"chunked" in header else b"\r\n"
            tls.sendall(b"POST /subscriptions HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n" + body)
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
        head, _, payload = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 400") or head.startswith(b"HTTP/1.1 400"), head
        assert json.loads(payload)["error"]["code"] == "BadRequest"
