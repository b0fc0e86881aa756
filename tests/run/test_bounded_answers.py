"""A service answer above 16 MB is refused, naming the service and the size, without being read whole.

A loopback server sends a large answer, announced (Content-Length) or not (chunked); the
real transports read it: requests with the session Adobe's client uses, and azure-core's
requests transport that the Azure clients (ARM, Graph, Key Vault, Cosmos DB, Entra ID) use.
Memory is measured with tracemalloc: the peak stays near the bound, not the answer's size.
"""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from diagnose.answers import MAX_ANSWER_BYTES, AnswerTooLarge, cap_session
from diagnose.azure import pipeline
from diagnose.profile import Profile

HUGE = 64 * 1024 * 1024  # four times the bound
CHUNK = b"x" * (1024 * 1024)


class Huge(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        size = int(self.path.rsplit("/", 1)[-1])
        announced = self.path.startswith("/announced/")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if announced:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        try:
            while sent < size:
                part = CHUNK[: min(len(CHUNK), size - sent)]
                if announced:
                    self.wfile.write(part)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                sent += len(part)
            if not announced:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client refused the rest: what is tested

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Huge)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def peak_while(action: object) -> int:
    tracemalloc.start()
    try:
        assert callable(action)
        action()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("how", ["announced", "chunked"])
def test_requests_with_the_cap_refuse_a_large_answer(server: str, how: str) -> None:
    session = cap_session(requests.Session(), "Experience Platform")

    def fetch() -> None:
        with pytest.raises(AnswerTooLarge) as caught:
            session.get(f"{server}/{how}/{HUGE}", timeout=30)
        assert "Experience Platform's answer is larger than 16 MB" in str(caught.value)
        if how == "announced":
            assert f"{HUGE:,} bytes" in str(caught.value)

    assert peak_while(fetch) < MAX_ANSWER_BYTES + 8 * 1024 * 1024


def test_an_answer_at_the_bound_is_read(server: str) -> None:
    session = cap_session(requests.Session(), "Experience Platform")
    assert len(session.get(f"{server}/chunked/{MAX_ANSWER_BYTES}", timeout=30).content) == (
        MAX_ANSWER_BYTES
    )


@pytest.mark.parametrize("how", ["announced", "chunked"])
def test_the_azure_transport_refuses_a_large_answer(server: str, how: str) -> None:
    from azure.core import PipelineClient
    from azure.core.rest import HttpRequest

    client: PipelineClient[HttpRequest, object] = PipelineClient(
        server, policies=[], transport=pipeline.transport(Profile(name="t"), "ARM")
    )

    def fetch() -> None:
        with pytest.raises(AnswerTooLarge, match="ARM's answer is larger than 16 MB"):
            client.send_request(HttpRequest("GET", f"{server}/{how}/{HUGE}"))

    assert peak_while(fetch) < MAX_ANSWER_BYTES + 8 * 1024 * 1024
