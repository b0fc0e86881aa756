"""The lab's fault layer, seen from a plain HTTPS client (requests / http.client with the lab's CA).

Each kind of docs/lab.md "Faults" is observed on the wire: what status, headers and
bytes a client receives, and that COUNT, PATH_REGEX and bad specs behave as documented.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
import urllib.parse
import zlib
from pathlib import Path

import pytest
import requests

from diagnose.lab import Lab, parse_faults
from diagnose.lab.faults import BadFault, parse_fault
from tests.harness import run_cli, start_cli
from tests.lab.sdk import StartLab

METADATA = "/metadata/endpoints?api-version=2022-09-01"  # ARM: JSON, no token needed


def get(lab: Lab, service: str, path: str, timeout: float = 10) -> requests.Response:
    return requests.get(lab.urls[service] + path, verify=lab.ca_cert, timeout=timeout)


def raw_exchange(lab: Lab, service: str, path: str) -> http.client.HTTPResponse:
    """One GET over http.client (no retries, no body pre-read): the response, headers read."""
    url = urllib.parse.urlsplit(lab.urls[service])
    context = ssl.create_default_context(cafile=lab.ca_cert)
    conn = http.client.HTTPSConnection(url.hostname or "", url.port, context=context, timeout=10)
    conn.request("GET", path)
    return conn.getresponse()


def faults_logged(lab: Lab, service: str) -> list[str | None]:
    return [r.fault for r in lab.requests if r.service == service]


# -- answers instead of the service ------------------------------------------------------------------


def test_429_has_retry_after_and_the_services_error_shape(faulty: StartLab) -> None:
    lab = faulty("vault:429")
    resp = get(lab, "vault", "/keys/cmk")
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.json()["error"]["code"] == "TooManyRequests"
    assert faults_logged(lab, "vault") == ["429"]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_carry_the_status(faulty: StartLab, status: int) -> None:
    lab = faulty(f"arm:{status}")
    resp = get(lab, "arm", METADATA)
    assert resp.status_code == status
    assert "code" in resp.json()["error"]
    assert [r.status for r in lab.requests] == [status]


def test_gateway_404_is_html_without_an_error_code(faulty: StartLab) -> None:
    lab = faulty("graph:gateway-404")
    resp = get(lab, "graph", "/v1.0/servicePrincipals")
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "<html>" in resp.text and "404 Not Found" in resp.text
    assert "error" not in resp.text.lower().replace("404", "")
    with pytest.raises(ValueError):
        resp.json()


def test_html_error_is_an_html_page(faulty: StartLab) -> None:
    lab = faulty("platform:html-error")
    resp = get(lab, "platform", "/journey/campaigns/service/campaigns/x")
    assert resp.status_code == 403
    assert resp.headers["Content-Type"].startswith("text/html")
    assert resp.text.lstrip().startswith("<html>")


def test_empty_200_has_no_body(faulty: StartLab) -> None:
    lab = faulty("arm:empty-200")
    resp = get(lab, "arm", METADATA)
    assert (resp.status_code, resp.content, resp.headers["Content-Length"]) == (200, b"", "0")
    assert resp.headers["Content-Type"].startswith("application/json")


def test_reset_before_headers(faulty: StartLab) -> None:
    lab = faulty("arm:reset-before-headers")
    with pytest.raises(requests.ConnectionError):
        get(lab, "arm", METADATA)
    assert [(r.fault, r.status) for r in lab.requests] == [("reset-before-headers", None)]


# -- answers spoiled on the way out -------------------------------------------------------------------


def test_truncated_body_is_short_of_content_length(faulty: StartLab) -> None:
    lab = faulty("arm:truncated")
    resp = raw_exchange(lab, "arm", METADATA)
    assert resp.status == 200
    promised = int(resp.headers["Content-Length"])
    with pytest.raises(http.client.IncompleteRead) as caught:
        resp.read()
    assert 0 < len(caught.value.partial) < promised


def test_reset_mid_body_never_delivers_the_whole_body(faulty: StartLab) -> None:
    lab = faulty("arm:reset-mid-body")
    with pytest.raises((http.client.IncompleteRead, ConnectionError, OSError)):
        resp = raw_exchange(lab, "arm", METADATA)
        resp.read()
    assert faults_logged(lab, "arm") == ["reset-mid-body"]


def test_garbled_body_is_neither_utf8_nor_json(faulty: StartLab) -> None:
    lab = faulty("arm:garbled")
    resp = get(lab, "arm", METADATA)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    assert len(resp.content) == int(resp.headers["Content-Length"]) >= 16
    with pytest.raises(UnicodeDecodeError):
        resp.content.decode("utf-8")


def test_malformed_200_is_empty_or_of_wrong_types(faulty: StartLab) -> None:
    """`{}` or the real answer with every value's type changed, fixed per path (docs/lab.md)."""
    healthy = faulty()
    paths = ["/metadata/endpoints", "/metadata/endpoints/"]  # one of each parity
    assert {zlib.crc32(p.encode()) % 2 for p in paths} == {0, 1}
    lab = faulty("arm:malformed-200")
    seen = set()
    for path in paths:
        real = get(healthy, "arm", path + "?api-version=2022-09-01").json()
        resp = get(lab, "arm", path + "?api-version=2022-09-01")
        assert resp.status_code == 200
        body = resp.json()
        if body == {}:
            seen.add("empty")
            continue
        seen.add("wrong types")
        assert body.keys() == real.keys()
        for key, value in real.items():
            if not isinstance(value, dict):
                assert type(body[key]) is not type(value), key
    assert seen == {"empty", "wrong types"}


def test_trickle_sends_one_byte_every_few_seconds_and_ends_when_the_lab_stops(
    faulty: StartLab,
) -> None:
    lab = faulty("arm:trickle")
    url = urllib.parse.urlsplit(lab.urls["arm"])
    context = ssl.create_default_context(cafile=lab.ca_cert)
    plain = socket.create_connection((url.hostname or "", url.port or 443), timeout=10)
    with context.wrap_socket(plain, server_hostname=url.hostname) as tls:
        tls.sendall(f"GET {METADATA} HTTP/1.1\r\nHost: lab\r\n\r\n".encode())
        assert tls.recv(100) == b"H"  # the first byte at once...
        tls.settimeout(1.0)
        with pytest.raises(TimeoutError):  # ...the next one only seconds later
            tls.recv(100)
        lab.stop()
        tls.settimeout(5)
        rest = b""
        try:
            while chunk := tls.recv(100):
                rest += chunk
        except (OSError, ssl.SSLError):
            pass  # a reset is as good as a close
        assert len(rest) <= 2


def test_stall_never_answers_and_ends_when_the_lab_stops(faulty: StartLab) -> None:
    lab = faulty("ims:stall")
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(requests.post(lab.urls["ims"] + "/ims/token/v3", verify=lab.ca_cert))
        except requests.RequestException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(1.5)
    assert worker.is_alive() and not outcome  # no answer, no close: it stalls
    lab.stop()
    worker.join(5)
    assert not worker.is_alive()
    assert isinstance(outcome[0], requests.ConnectionError)


# -- connection faults ---------------------------------------------------------------------------------


def test_wrong_cert_fails_verification_for_count_connections(faulty: StartLab) -> None:
    lab = faulty("arm:wrong-cert:1")
    with pytest.raises(requests.exceptions.SSLError, match="certificate verify failed"):
        get(lab, "arm", METADATA)
    assert get(lab, "arm", METADATA).status_code == 200  # COUNT=1: the next connection is fine


def test_refused_port(faulty: StartLab) -> None:
    lab = faulty("cosmos:refused")
    url = urllib.parse.urlsplit(lab.urls["cosmos"])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((url.hostname or "", url.port or 443), timeout=5).close()
    assert get(lab, "arm", METADATA).status_code == 200  # only cosmos refuses


def test_dns_names_an_invalid_host_that_fails_locally_and_fast(faulty: StartLab) -> None:
    lab = faulty("vault:dns")
    host = urllib.parse.urlsplit(lab.urls["vault"]).hostname or ""
    assert host.endswith(".invalid")
    assert lab.env["DIAGNOSE_KEYVAULT_URL"].startswith(f"https://{host}:")
    assert host in lab.env["DIAGNOSE_KEY_ID"]
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError, match="(?i)resolve|not known"):
        get(lab, "vault", "/keys/cmk")
    assert time.monotonic() - started < 3  # no resolver was asked (generous bound)
    lab.stop()
    with pytest.raises(socket.gaierror):  # the real resolver is back, and .invalid still fails
        socket.getaddrinfo(host, 443)


# -- COUNT, PATH_REGEX, the log ---------------------------------------------------------------------------


def test_count_faults_only_the_first_matching_requests(faulty: StartLab) -> None:
    lab = faulty("arm:503:2")
    statuses = [get(lab, "arm", METADATA).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert faults_logged(lab, "arm") == ["503", "503", None]


def test_path_regex_narrows_the_fault(faulty: StartLab) -> None:
    lab = faulty("arm:gateway-404@^/metadata/", "graph:500:1@servicePrincipals")
    assert get(lab, "arm", METADATA).status_code == 404
    assert get(lab, "arm", "/subscriptions?api-version=2022-12-01").status_code == 401  # no token
    assert get(lab, "graph", "/v1.0/directoryObjects").status_code != 500
    assert get(lab, "graph", "/v1.0/servicePrincipals").status_code == 500
    assert get(lab, "graph", "/v1.0/servicePrincipals").status_code == 401  # COUNT=1 used up
    assert faults_logged(lab, "arm") == ["gateway-404", None]


def test_a_fault_on_one_service_leaves_the_others_alone(faulty: StartLab) -> None:
    lab = faulty("vault:500")
    assert get(lab, "arm", METADATA).status_code == 200
    assert faults_logged(lab, "arm") == [None]


# -- specs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("vault", "expected SERVICE:KIND"),
        ("keyvault:503", "unknown service 'keyvault'"),
        ("vault:404", "unknown kind '404'"),
        ("vault:503:0", "COUNT must be a whole number"),
        ("vault:503:two", "COUNT must be a whole number"),
        ("vault:503:-1", "COUNT must be a whole number"),
        ("vault:503@(", "is not a regular expression"),
        ("vault:503@", "PATH_REGEX after '@' is empty"),
        ("vault:refused:2", "COUNT does not apply"),
        ("vault:dns@/keys", "PATH_REGEX does not apply"),
    ],
)
def test_bad_specs_are_refused_with_a_message(spec: str, message: str) -> None:
    with pytest.raises(BadFault, match=message) as caught:
        Lab("healthy", faults=[spec])
    assert spec in str(caught.value)


def test_comma_separated_specs_keep_commas_inside_a_regex() -> None:
    specs = parse_faults("vault:503:2@^/keys/[a-z]{1,3}$, arm:gateway-404 ,graph:stall")
    assert [(f.service, f.kind, f.count) for f in specs] == [
        ("vault", "503", 2),
        ("arm", "gateway-404", None),
        ("graph", "stall", None),
    ]
    assert specs[0].path is not None and specs[0].path.search("/keys/cmk")
    assert parse_faults("  ") == []
    assert parse_fault("platform:malformed-200@campaigns").count is None


def test_bad_specs_on_the_command_line_exit_2() -> None:
    served = run_cli("lab", "serve", "--fault", "vault:nope", timeout=60)
    assert served.exit_code == 2, served
    assert "unknown kind 'nope'" in served.stderr and "Traceback" not in served.output
    ran = run_cli(
        "run", "--lab", "healthy", env={"DIAGNOSE_LAB_FAULTS": "arm:503,cosmos:9"}, timeout=60
    )
    assert ran.exit_code == 2, ran
    assert "DIAGNOSE_LAB_FAULTS" in ran.stderr and "'cosmos:9'" in ran.stderr
    assert "Traceback" not in ran.output


def test_lab_serve_applies_repeated_faults(tmp_path: Path) -> None:
    env_file = tmp_path / "lab.env"
    proc = start_cli(
        "lab", "serve", "--fault", "vault:dns", "--fault", "arm:503:1", "--env-out", env_file
    )
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        text = env_file.read_text()
        assert ".lab.invalid:" in text.split("DIAGNOSE_KEYVAULT_URL=")[1].splitlines()[0]
        arm = text.split("DIAGNOSE_ARM_URL=")[1].splitlines()[0].strip("'")
        ca = text.split("DIAGNOSE_CA_BUNDLE=")[1].splitlines()[0].strip("'")
        statuses = [requests.get(arm + METADATA, verify=ca, timeout=10).status_code for _ in "ab"]
        assert statuses == [503, 200]
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert "fault     vault:dns" in stderr and "fault     arm:503:1" in stderr
    assert proc.returncode == 0 and "Traceback" not in stderr


def test_the_answer_from_a_faulted_request_is_what_the_log_says(faulty: StartLab) -> None:
    lab = faulty("arm:malformed-200:1")
    first, second = (get(lab, "arm", METADATA) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert json.loads(first.content) != json.loads(second.content)
    assert faults_logged(lab, "arm") == ["malformed-200", None]
