"""`payload send` against a tiny local HTTPS server that misbehaves the way real networks do.

The lab issues the IMS token; the execution host is a server started here on 127.0.0.1 with a
certificate from `make_certificates`: it answers the campaign read, then either drops the
connection after reading the POST, or redirects it.
"""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from diagnose.lab.keys import make_certificates
from tests.harness import Cli
from tests.payload.conftest import codes, report
from tests.payload.test_lab import no_lab_secret, write_curl


class _Server:
    def __init__(self, mode: str, directory: Path):
        self.mode = mode
        self.posts: list[tuple[str, str | None, Any]] = []  # (path, x-request-id, requestId)
        certs = make_certificates(["127.0.0.1"])
        self.ca = directory / "server-ca.pem"
        self.ca.write_bytes(certs.ca.public_bytes(serialization.Encoding.PEM))
        chain, key = directory / "server.pem", directory / "server-key.pem"
        chain.write_bytes(certs.server.public_bytes(serialization.Encoding.PEM))
        key.write_bytes(
            certs.server_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, key)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, document: Any) -> None:
                data = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                campaign = self.path.rsplit("/", 1)[-1]
                self._json(
                    200,
                    {"id": campaign, "name": "t", "status": "live", "schedule": {}},
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                server.posts.append(
                    (self.path, self.headers.get("x-request-id"), body.get("requestId"))
                )
                if server.mode == "drop":  # read it all, then hang up without a word
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if server.mode == "redirect":
                    self.send_response(307)
                    self.send_header("Location", "/ajo/im/executions/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._json(202, {"executionId": "UMA-00000001"})

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def execution_host(lab_environ: Any, tmp_path: Path, cli: Cli) -> Iterator[Any]:
    """Factory: the lab for IMS, and a local server of the given mode as the platform host."""
    servers: list[_Server] = []

    def start(mode: str) -> tuple[Any, _Server]:
        lab = lab_environ("healthy")
        server = _Server(mode, tmp_path)
        servers.append(server.__enter__())
        bundle = tmp_path / "bundle.pem"
        bundle.write_text(Path(lab.env["DIAGNOSE_CA_BUNDLE"]).read_text() + server.ca.read_text())
        cli.env.update(
            DIAGNOSE_CA_BUNDLE=str(bundle),
            REQUESTS_CA_BUNDLE=str(bundle),
            DIAGNOSE_PLATFORM_URL=server.url,
        )
        return lab, server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.mark.parametrize("output", ["text", "json", "markdown"])
def test_a_connection_dropped_after_the_post_is_not_reported_as_not_sent(
    output: str, execution_host: Any, cli: Cli, tmp_path: Path
) -> None:
    lab, server = execution_host("drop")
    curl = write_curl(tmp_path / "c.sh", lab, host=server.url)
    result = cli("payload", "send", str(curl), "--yes", "--deadline", "5", "--output", output)
    assert result.exit_code == 1, result.output  # a finding, not the tool's reach (3)
    assert len(server.posts) == 1  # received once, never resent
    sent_request_id = server.posts[0][2]
    assert sent_request_id in result.stdout  # the id to look for before any new attempt
    assert "Not sent" not in result.stdout
    assert "cannot reach" not in result.stdout + result.stderr
    assert "may have been delivered" in result.stdout or "may have received" in result.stdout
    if output == "json":
        doc = report(result)
        assert codes(doc) == ["call.timeout"]
        assert doc["execution"]["http_status"] is None
        assert doc["execution"]["lost"]
        assert doc["execution"]["requestId"] == sent_request_id
        assert doc["limitation"] is None
    no_lab_secret(lab, result.stdout, result.stderr)


def test_a_redirect_is_a_rejected_call_and_is_not_followed(
    execution_host: Any, cli: Cli, tmp_path: Path
) -> None:
    lab, server = execution_host("redirect")
    curl = write_curl(tmp_path / "c.sh", lab, host=server.url)
    result = cli("payload", "send", str(curl), "--yes", "--deadline", "5", "--output", "json")
    assert result.exit_code == 1, result.output
    assert [path for path, _, _ in server.posts] == ["/ajo/im/executions/unitary"]  # one POST
    doc = report(result)
    assert codes(doc) == ["campaign.call-rejected"]
    assert doc["execution"]["http_status"] == 307
    assert "not followed" in doc["findings"][0]["message"]
    no_lab_secret(lab, result.stdout, result.stderr)


def test_a_refused_connection_is_the_tools_reach_and_nothing_was_sent(
    lab_environ: Any, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = lab_environ("healthy")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cli.env["DIAGNOSE_PLATFORM_URL"] = f"https://127.0.0.1:{port}"
    curl = write_curl(tmp_path / "c.sh", lab, host=f"https://127.0.0.1:{port}")
    result = cli("payload", "send", str(curl), "--yes", "--deadline", "5")
    assert result.exit_code == 3, result.output
    assert "Not sent." in result.stdout
    assert "nothing was sent" in result.stdout
