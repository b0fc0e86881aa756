"""`Lab`: start the services on loopback over HTTPS, behind one world model; stop them promptly."""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from diagnose.errors import InputError
from diagnose.lab.envfile import lab_env, write_env, write_profile
from diagnose.lab.faults import (
    INVALID_DOMAIN,
    SERVICES,
    BadFault,
    Fault,
    Faults,
    invalid_names_fail_locally,
)
from diagnose.lab.history import History
from diagnose.lab.history import start as start_history
from diagnose.lab.jwts import Signer
from diagnose.lab.keys import (
    Certificates,
    cached_rsa_key,
    make_certificates,
    make_client_certificate,
    pem_cert,
    pem_private,
)
from diagnose.lab.recorder import Recorder
from diagnose.lab.scenarios import SCENARIO_OBJECTS, SCENARIOS
from diagnose.lab.services import activitylog, audit, resourcegraph
from diagnose.lab.services.arm import Arm
from diagnose.lab.services.common import AzureService, Context
from diagnose.lab.services.cosmos import Cosmos
from diagnose.lab.services.entra import Entra
from diagnose.lab.services.graph import Graph
from diagnose.lab.services.ims import Ims
from diagnose.lab.services.keyvault import KeyVault
from diagnose.lab.services.loganalytics import LogAnalytics
from diagnose.lab.services.platform import Platform
from diagnose.lab.state import RequestRecord, State
from diagnose.lab.transport import Endpoint, Server, Service
from diagnose.lab.world import World, healthy_world

_SERVICE_CLASSES = {
    "entra": Entra,
    "graph": Graph,
    "arm": Arm,
    "vault": KeyVault,
    "cosmos": Cosmos,
    "ims": Ims,
    "platform": Platform,
}
DEFAULT_PROPAGATION_S = 3.0


class UnknownScenario(InputError):
    """A scenario name the lab does not know (exit 2 on the command line)."""


def default_propagation() -> float:
    """`DIAGNOSE_LAB_PROPAGATION_S` if set, else 3 s (a demo shows the delay)."""
    raw = os.environ.get("DIAGNOSE_LAB_PROPAGATION_S")
    try:
        value = float(raw) if raw else DEFAULT_PROPAGATION_S
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError(f"DIAGNOSE_LAB_PROPAGATION_S must be a number of seconds, not {raw!r}")
    return max(0.0, value)


def url_host(host: str) -> str:
    """An address as a URL's host: an IPv6 one in brackets."""
    return f"[{host}]" if ":" in host else host


def _bind_all(loopback: str, count: int) -> tuple[list[str], list[socket.socket]]:
    """One loopback address per service (127.0.0.2...), or `::1` with one port each where absent."""
    socks: list[socket.socket] = []
    if loopback != "ipv6":
        try:
            for i in range(count):
                socks.append(Server.bind(f"127.0.0.{i + 2}"))
            return [f"127.0.0.{i + 2}" for i in range(count)], socks
        except OSError:
            for s in socks:
                s.close()
            if loopback == "ipv4":
                raise
    socks = [Server.bind("::1") for _ in range(count)]
    return ["::1"] * count, socks


class Lab:
    """The local stand-in for Entra ID, Graph, ARM, Key Vault, Cosmos DB, Adobe IMS and AJO."""

    # the services `start()` binds an address for, in order (a subclass may serve fewer)
    service_names: tuple[str, ...] = SERVICES  # Log Analytics has a host of its own

    def __new__(cls, scenario: str = "healthy", **options: object) -> Lab:
        """A fleet scenario (`fleet`, `fleet:N`) starts a `FleetLab` (diagnose/lab/fleet_lab.py)."""
        from diagnose.lab import fleet

        if cls is Lab and fleet.is_fleet(scenario):
            from diagnose.lab.fleet_lab import FleetLab

            return object.__new__(FleetLab)
        return object.__new__(cls)

    def __init__(
        self,
        scenario: str = "healthy",
        *,
        latency_ms: float = 0,
        propagation_s: float | None = None,
        loopback: str = "auto",
        faults: Iterable[str | Fault] = (),
    ) -> None:
        """`loopback`: "auto" (127.0.0.2... else ::1), or force "ipv4" / "ipv6" (the macOS layout).

        `faults`: specs `SERVICE:KIND[:COUNT][@PATH_REGEX]` (diagnose/lab/faults.py); a bad
        one is a `BadFault` (an InputError).
        """
        if scenario not in SCENARIO_OBJECTS:
            raise UnknownScenario(
                f"unknown lab scenario {scenario!r}; choose one of: {', '.join(SCENARIOS)}"
            )
        if latency_ms < 0:
            raise InputError("--latency-ms must not be negative")
        if loopback not in ("auto", "ipv4", "ipv6"):
            raise InputError(f"loopback must be auto, ipv4 or ipv6, not {loopback!r}")
        self.loopback = loopback
        self.faults = Faults.of([*faults, *SCENARIO_OBJECTS[scenario].faults])
        unserved = sorted({f.service for f in self.faults.specs} - set(self.service_names))
        if unserved:  # a fault that could never apply is a mistake, not a quiet no-op
            raise BadFault(
                f"this lab serves no {', '.join(unserved)}: its faults cannot apply "
                f"(it serves {', '.join(self.service_names)})"
            )
        self.scenario = scenario
        self.latency_ms = latency_ms
        self.propagation_s = default_propagation() if propagation_s is None else propagation_s
        self.urls: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self.world: World | None = None  # set by start()
        self.history: History | None = None  # set by start(): the lab's record of events
        self._state: State | None = None
        self._server: Server | None = None
        self._dir: Path | None = None
        self._stop = threading.Event()
        self._resolver = contextlib.ExitStack()

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> Lab:
        if self._server is not None:
            return self
        hosts, socks = _bind_all(self.loopback, len(self.service_names))
        try:
            self._start(hosts, socks)
        except BaseException:
            for s in socks:
                s.close()
            self._cleanup()
            raise
        return self

    def _write_tls(self, hosts: list[str]) -> tuple[ssl.SSLContext, bytes]:
        """The lab's CA, CA bundle and the diagnosing identity's client certificate, written to
        the lab's folder (`ca_cert`, `ca_bundle`, `client_certificate_path`); the servers' TLS
        context for `hosts`, and the client certificate (DER) the world registers."""
        assert self._dir is not None, "start() makes the lab's folder first"
        folder = self._dir
        certs = make_certificates(sorted(set(hosts)))
        self.ca_cert = str(folder / "ca.pem")
        self.ca_bundle = str(folder / "ca-bundle.pem")
        Path(self.ca_cert).write_bytes(pem_cert(certs.ca))
        Path(self.ca_bundle).write_bytes(_public_roots() + b"\n" + pem_cert(certs.ca))
        client_key = cached_rsa_key("client-certificate", 2048)
        client_cert = make_client_certificate(client_key, "diagnose-reader")
        self.client_certificate_path = str(folder / "diagnose-reader.pem")
        _write_private(
            Path(self.client_certificate_path), pem_private(client_key) + pem_cert(client_cert)
        )
        return _server_context(certs, folder), client_cert.public_bytes(serialization.Encoding.DER)

    def _start(self, hosts: list[str], socks: list[socket.socket]) -> None:
        self._stop = threading.Event()  # a stopped Lab can be started again, with a fresh world
        self._dir = Path(tempfile.mkdtemp(prefix="diagnose-lab-"))
        self._publish_urls(hosts, socks)
        context, der = self._write_tls(hosts)
        topology = SCENARIO_OBJECTS[self.scenario].topology
        world = healthy_world(self.urls, cached_rsa_key("keyvault-cmk", 3072), der, topology)
        SCENARIO_OBJECTS[self.scenario].edit(world)
        self.world = world
        self.history = start_history(world, self.scenario)
        self._state = State(world, self.propagation_s)
        recorder = Recorder(self.history, self._state.lock)
        ctx = Context(self._state, Signer(cached_rsa_key("token-signing", 2048)), self.urls)
        self._server = Server(context, self._stop)
        wrong_tls = _wrong_context(hosts) if self._has_kind("wrong-cert") else None
        for name, sock in zip(SERVICES, socks, strict=True):
            if self._unreachable(name):
                sock.close()
                continue
            service: Service = (
                LogAnalytics(ctx, self.history)
                if name == "loganalytics"
                else _SERVICE_CLASSES[name](ctx)
            )
            _history_routes(service, self.history)
            endpoint = Endpoint(
                service, self._state, self.urls[name], self._stop, self.latency_ms / 1000
            )
            endpoint.faults, endpoint.wrong_tls = self.faults, wrong_tls
            endpoint.observe = recorder
            self._server.add(sock, endpoint)
        self.env = lab_env(world, self.urls, self.ca_bundle)
        self._server.start()

    def stop(self) -> None:
        """Stop at once: slow answers in flight are dropped, open connections shut down."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._cleanup()

    def _publish_urls(self, hosts: list[str], socks: list[socket.socket]) -> None:
        """`urls` of `service_names` at their sockets; a service whose `dns` fault lasts is named
        in the invalid domain, which then fails to resolve in this process, before any query."""
        for name, host, sock in zip(self.service_names, hosts, socks, strict=True):
            shown = (
                f"{name}.{INVALID_DOMAIN}" if self.faults.lasting(name, "dns") else url_host(host)
            )
            self.urls[name] = f"https://{shown}:{sock.getsockname()[1]}"
        if self._has_kind("dns"):
            self._resolver.enter_context(invalid_names_fail_locally())

    def _unreachable(self, name: str) -> bool:
        """The service's port refuses connections (dns: nothing would reach it)."""
        return self.faults.lasting(name, "refused") or self.faults.lasting(name, "dns")

    def _has_kind(self, kind: str) -> bool:
        return any(f.kind == kind for f in self.faults.specs)

    def _cleanup(self) -> None:
        self._resolver.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests and the CLI read -------------------------------------------------------------------
    @property
    def state(self) -> State:
        if self._state is None:
            raise RuntimeError("the lab is not started")
        return self._state

    @property
    def requests(self) -> list[RequestRecord]:
        with self.state.lock:
            return list(self.state.requests)

    def writes(self) -> list[RequestRecord]:
        return [r for r in self.requests if r.write]

    def ajo_log(self) -> str:
        return self.state.ajo_log()

    def write_env(self, path: str | Path) -> None:
        write_env(path, self.env)

    def write_profile(self, path: str | Path) -> None:
        write_profile(path, self.env)


def _server_context(certs: Certificates, folder: Path) -> ssl.SSLContext:
    """The TLS server context for `certs` (its chain and key written to `folder` to be loaded)."""
    chain, key = folder / "server.pem", folder / "server-key.pem"
    chain.write_bytes(pem_cert(certs.server) + pem_cert(certs.ca))
    _write_private(key, pem_private(certs.server_key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(chain), str(key))
    context.set_alpn_protocols(["http/1.1"])
    return context


def _history_routes(service: Service, history: History) -> None:
    """The record-reading APIs that live on Graph's and ARM's hosts (docs/lab.md "History")."""
    if isinstance(service, Graph):
        graph: AzureService = service
        service.route(
            "GET",
            r"/v1\.0/auditLogs/directoryAudits",
            lambda req: audit.directory_audits(graph, history, req),
            re.I,
        )
    elif isinstance(service, Arm):
        arm: AzureService = service
        service.route(
            "GET",
            activitylog.PATH,
            lambda req, sub: activitylog.list_events(arm, history, req, sub),
            re.I,
            first=True,  # before ARM's catch-all resource read
        )
        service.route(
            "POST", resourcegraph.PATH, lambda req: resourcegraph.query(arm, history, req), re.I
        )


def _wrong_context(hosts: list[str]) -> ssl.SSLContext:
    """A server context whose certificate chains to a CA no client trusts (the wrong-cert fault)."""
    with tempfile.TemporaryDirectory(prefix="diagnose-lab-wrong-") as folder:
        return _server_context(make_certificates(sorted(set(hosts))), Path(folder))


def _public_roots() -> bytes:
    """certifi's roots (so pip, az and other HTTPS keep working with the bundle), if installed."""
    try:
        import certifi

        return Path(certifi.where()).read_bytes()
    except (ImportError, OSError):
        return b""


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
