"""The Cosmos DB data-plane checks against an implementation nobody here wrote: @vercel/cosmosdb-server.

The server runs over HTTPS on its own loopback address with a certificate this
test mints; its CA joins the lab's bundle, and DIAGNOSE_COSMOS_ENDPOINT points
at it. The lab still issues the Entra token (the server accepts any token).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from diagnose.lab.keys import make_certificates, pem_cert, pem_private
from tests.harness import run_cli

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
SERVER = NODE_DIR / "node_modules" / "@vercel" / "cosmosdb-server"
HOST = "127.0.0.19"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not SERVER.is_dir(),
    reason="needs node and `npm install` in tests/node (.ci/run does it)",
)


@pytest.fixture
def cosmosdb_server(tmp_path: Path):
    certs = make_certificates([HOST])
    (tmp_path / "cert.pem").write_bytes(pem_cert(certs.server))
    (tmp_path / "key.pem").write_bytes(pem_private(certs.server_key))
    (tmp_path / "ca.pem").write_bytes(pem_cert(certs.ca))
    proc = subprocess.Popen(
        [
            "node",
            str(NODE_DIR / "serve-cosmos.js"),
            HOST,
            str(tmp_path / "cert.pem"),
            str(tmp_path / "key.pem"),
        ],
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("PORT "):
            pytest.fail(
                f"cosmosdb-server did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
            )
        yield f"https://{HOST}:{int(line.split()[1])}/", tmp_path / "ca.pem"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_dataplane_checks_pass_against_cosmosdb_server(
    lab, cosmosdb_server, tmp_path: Path
) -> None:
    endpoint, server_ca = cosmosdb_server
    running = lab("healthy")
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(Path(running.ca_bundle).read_text() + server_ca.read_text())
    env = dict(running.env)
    env.update(
        DIAGNOSE_COSMOS_ENDPOINT=endpoint,
        DIAGNOSE_CA_BUNDLE=str(bundle),
        REQUESTS_CA_BUNDLE=str(bundle),
        # no DIAGNOSE_COSMOS_SCOPE: the server's own audience is unknown to the lab's Entra ID
        # (AADSTS500011), so this also proves the fallback to https://cosmos.azure.com/.default
    )

    # A database made by the test through the real SDK, so the listing has something to show.
    from azure.cosmos import CosmosClient
    from azure.cosmos.documents import SSLConfiguration

    seed = CosmosClient(
        endpoint,
        credential="dummy-key",
        ssl_config=SSLConfiguration(),
        connection_verify=str(bundle),
    )
    seed.create_database_if_not_exists("campaigns")

    proc = run_cli(
        "run", "--only", "cosmos.token,cosmos.dataplane", "--output", "json", env=env, timeout=120
    )
    report = proc.json()
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["cosmos.token"]["status"] == "pass", checks["cosmos.token"]
    assert checks["cosmos.token"]["evidence"]["scope"] == "https://cosmos.azure.com/.default"
    assert checks["cosmos.dataplane"]["status"] == "pass", checks["cosmos.dataplane"]
    assert "campaigns" in checks["cosmos.dataplane"]["evidence"]["databases"]
    locations = checks["cosmos.dataplane"]["evidence"]["writableLocations"]
    assert locations and all(HOST in loc for loc in locations), locations
    assert proc.exit_code == 0, proc.stderr


def test_certificate_checking_is_on(lab, cosmosdb_server) -> None:
    """Without the server's CA in the bundle the probe must fail to connect, not silently pass."""
    endpoint, _ = cosmosdb_server
    running = lab("healthy")
    env = dict(running.env)
    env.update(
        DIAGNOSE_COSMOS_ENDPOINT=endpoint, DIAGNOSE_COSMOS_SCOPE="https://cosmos.azure.com/.default"
    )
    proc = run_cli("run", "--only", "cosmos.dataplane", "--output", "json", env=env, timeout=120)
    report = proc.json()
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["cosmos.dataplane"]["status"] == "error"
    assert proc.exit_code == 3
