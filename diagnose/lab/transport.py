"""HTTPS for the lab: one listener per service, one accept loop, a thread per connection.

A slow answer waits on the lab's stop event, so `stop()` returns at once even with
a response in flight; open keep-alive connections are shut down at stop.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import selectors
import socket
import ssl
import struct
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeAlias

from diagnose.lab import faults as fault_kinds
from diagnose.lab.faults import Faults
from diagnose.lab.state import RequestRecord, State
from diagnose.lab.world import World

# A peer's address as `accept()` gives it: (host, port) for IPv4, with flow info and scope for IPv6.
Address: TypeAlias = tuple[str, int] | tuple[str, int, int, int]


class BadBody(ValueError):
    """The request body is not what the endpoint reads (invalid JSON, wrong form)."""


class Denied(Exception):
    """A request refused before its handler finished; carries the service's answer."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, no query
    query: dict[str, str]
    headers: Message
    body: bytes
    client_ip: str
    base_url: str
    caller_app_id: str | None = None  # set by the service once it knows the caller

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default) or default

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadBody(str(exc)) from exc

    def form(self) -> dict[str, str]:
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadBody(str(exc)) from exc
        return {k: v[0] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}

    def bearer(self) -> str | None:
        value = self.header("Authorization")
        if value[:7].lower() == "bearer ":
            return value[7:].strip()
        return None


@dataclass
class Response:
    status: int
    body: object = None  # dict/list -> JSON, str/bytes as is, None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    hold_s: float = 0.0  # answer only after this long (interrupted by the lab's stop)


Handler = Callable[..., Response]
# (service name, request, the service's handler) -> the answer: the lab's record of events.
Observer = Callable[[str, "Request", Callable[["Request"], "Response"]], "Response"]


class Service:
    """A lab service: routes requests to handlers, says which requests are writes."""

    name = ""

    def __init__(self, state: State) -> None:
        self.state = state
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(
        self, method: str, pattern: str, handler: Handler, flags: int = 0, first: bool = False
    ) -> None:
        """Add a route; `first` puts it before the others (a path a catch-all would take)."""
        entry = (method, re.compile(pattern + r"/?$", flags), handler)
        self._routes.insert(0, entry) if first else self._routes.append(entry)

    @property
    def world(self) -> World:
        return self.state.world

    def dispatch(self, req: Request) -> Response:
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.match(req.path)
            if match is None:
                continue
            allowed = True
            if method == req.method:
                return handler(req, **match.groupdict())
        if allowed:
            return self.error(
                405, "MethodNotAllowed", f"The requested method {req.method} is not allowed."
            )
        return self.not_found(req)

    def handle(self, req: Request) -> Response:
        """Answer a request; a bug or a bad body becomes this service's error shape, not a traceback."""
        try:
            return self.dispatch(req)
        except Denied as exc:
            return exc.response
        except BadBody as exc:
            return self.error(400, "BadRequest", f"The request body could not be read: {exc}")
        except Exception:  # noqa: BLE001 - the lab answers like a service, never with a traceback
            return self.error(
                500, "InternalServerError", "The service encountered an internal error."
            )

    def is_write(self, req: Request) -> bool:
        return False

    def not_found(self, req: Request) -> Response:
        return self.error(404, "NotFound", f"The requested resource '{req.path}' was not found.")

    def error(self, status: int, code: str, message: str, **extra: object) -> Response:
        return Response(status, {"error": {"code": code, "message": message, **extra}})


def _encode(body: object) -> tuple[bytes, str]:
    if body is None:
        return b"", ""
    if isinstance(body, bytes):
        return body, "application/octet-stream"
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body).encode(), "application/json; charset=utf-8"


_HTML = "text/html; charset=utf-8"
_WRONG_CERT = ("wrong-cert",)
_REQUEST_FAULTS = fault_kinds.BEFORE_HANDLER + fault_kinds.ON_THE_WAY_OUT
MAX_BODY = 16 * 1024 * 1024  # far above any request a client of the lab sends


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "diagnose-lab"
    sys_version = ""
    timeout = 300

    def __init__(self, sock: ssl.SSLSocket, addr: Address, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        super().__init__(sock, addr, endpoint)  # type: ignore[arg-type]  # the endpoint is our "server"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return  # the lab keeps its own request log (no secrets), never stderr noise

    def _read_body(self) -> bytes:
        """The body; ValueError for framing no real service would accept (answered 400)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                total += size
                if size < 0 or total > MAX_BODY:
                    raise ValueError("bad chunk size")
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        ep = self.endpoint
        raw_path, _, raw_query = self.path.partition("?")
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(
                ep.service.error(
                    400,
                    "BadRequest",
                    "The request's framing (Content-Length or chunks) is malformed.",
                )
            )
            return
        except OSError:
            self.close_connection = True
            return
        req = Request(
            method=self.command,
            path=urllib.parse.unquote(raw_path) or "/",
            query={
                k: v[0] for k, v in urllib.parse.parse_qs(raw_query, keep_blank_values=True).items()
            },
            headers=self.headers,
            body=body,
            client_ip=self.client_address[0],
            base_url=ep.base_url,
        )
        rec = ep.state.record(
            RequestRecord(ep.service.name, req.method, req.path, write=ep.service.is_write(req))
        )
        rec.fault = ep.faults.take(ep.service.name, req.path, _REQUEST_FAULTS)
        if rec.fault in fault_kinds.BEFORE_HANDLER:
            resp = self._fault_answer(rec.fault)
            if resp is None:  # reset or stall: no answer at all
                return
        elif ep.observe is not None:  # the lab's history records what the handler did
            resp = ep.observe(ep.service.name, req, ep.service.handle)
        else:
            resp = ep.service.handle(req)
        rec.caller_app_id = req.caller_app_id
        wait = resp.hold_s + ep.latency_s
        if wait > 0 and ep.stop_event.wait(wait):
            self.close_connection = True  # the lab is stopping: drop the answer
            return
        if rec.fault == "malformed-200":
            resp = Response(200, fault_kinds.malformed(req.path, resp.body))
        elif rec.fault == "garbled":
            data, ctype = _encode(resp.body)
            ctype = resp.headers.get("Content-Type", ctype) or "application/json; charset=utf-8"
            resp = Response(
                resp.status, fault_kinds.garble(data), {**resp.headers, "Content-Type": ctype}
            )
        rec.status = resp.status  # before the bytes leave, so a client never sees it unset
        if rec.fault in ("reset-mid-body", "truncated", "trickle"):
            self._send_broken(resp, rec.fault)
        else:
            self._send(resp)

    def _fault_answer(self, kind: str) -> Response | None:
        """What a fault answers instead of the service; None after a reset or a stall."""
        service = self.endpoint.service
        if kind in fault_kinds.STATUS_ERRORS:
            code, message = fault_kinds.STATUS_ERRORS[kind]
            resp = service.error(int(kind), code, message)
            if kind == "429":
                resp.headers["Retry-After"] = str(self.endpoint.faults.retry_after(service.name))
            return resp
        if kind == "gateway-404":
            return Response(404, fault_kinds.GATEWAY_404, {"Content-Type": _HTML})
        if kind == "html-error":
            return Response(
                fault_kinds.HTML_ERROR_STATUS, fault_kinds.HTML_ERROR, {"Content-Type": _HTML}
            )
        if kind == "empty-200":
            return Response(200, None, {"Content-Type": "application/json; charset=utf-8"})
        if kind == "stall":
            self.endpoint.stop_event.wait()  # never answers; ends when the lab stops
        self._reset()
        return None

    def _reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0) instead of an orderly close."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _send_broken(self, resp: Response, kind: str) -> None:
        """The whole answer one byte at a time (trickle), or cut mid-body then closed or reset."""
        real, self.wfile = self.wfile, io.BytesIO()
        try:
            self._send(resp)
            raw = self.wfile.getvalue()
        finally:
            self.wfile = real
        self.close_connection = True
        if kind == "trickle":
            for i in range(len(raw)):
                if i and self.endpoint.stop_event.wait(fault_kinds.TRICKLE_INTERVAL_S):
                    return
                self.wfile.write(raw[i : i + 1])
            return
        head = raw.index(b"\r\n\r\n") + 4
        body = len(raw) - head
        self.wfile.write(raw[: head + body // 2] if body else raw[: head // 2])
        if kind == "reset-mid-body":
            self._reset()

    def _send(self, resp: Response) -> None:
        data, ctype = _encode(resp.body)
        self.send_response(resp.status)
        headers = {"Content-Type": ctype} if ctype else {}
        headers.update(resp.headers)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


@dataclass
class Endpoint:
    service: Service
    state: State
    base_url: str
    stop_event: threading.Event
    latency_s: float
    faults: Faults = field(default_factory=Faults)
    wrong_tls: ssl.SSLContext | None = None  # the wrong-cert fault's certificate (untrusted CA)
    observe: Observer | None = None  # runs the handler and records it (diagnose/lab/recorder.py)


class Server:
    """Listeners bound before start (so URLs are known), served by one accept thread."""

    def __init__(self, context: ssl.SSLContext, stop_event: threading.Event) -> None:
        self.context = context
        self.stop_event = stop_event
        self._listeners: dict[socket.socket, Endpoint] = {}
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread: threading.Thread | None = None

    @staticmethod
    def bind(host: str) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, 0))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        return sock

    def add(self, sock: socket.socket, endpoint: Endpoint) -> None:
        self._listeners[sock] = endpoint

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="diagnose-lab", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self._wake_r, selectors.EVENT_READ)
            for sock in self._listeners:
                sock.setblocking(False)
                sel.register(sock, selectors.EVENT_READ)
            while not self.stop_event.is_set():
                for key, _ in sel.select():
                    listener = key.fileobj
                    if listener is self._wake_r or self.stop_event.is_set():
                        return
                    assert isinstance(listener, socket.socket)  # only sockets are registered
                    try:
                        conn, addr = listener.accept()
                    except OSError:
                        continue
                    threading.Thread(
                        target=self._serve,
                        args=(conn, addr, self._listeners[listener]),
                        daemon=True,
                        name=f"lab-connection:{id(self)}",
                    ).start()

    def _serve(self, conn: socket.socket, addr: Address, endpoint: Endpoint) -> None:
        conn.setblocking(True)
        conn.settimeout(30)
        with contextlib.suppress(OSError):  # no Nagle delay per answer
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if self.stop_event.is_set():
                conn.close()
                return
            self._conns.add(conn)
        try:
            # wrap_socket detaches `conn`: track the TLS socket *before* the handshake, so that
            # stop() can shut down a client that connected but never finished it.
            context = self.context
            if endpoint.wrong_tls and endpoint.faults.take(endpoint.service.name, "", _WRONG_CERT):
                context = endpoint.wrong_tls
            tls = context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            with self._lock:
                self._conns.discard(conn)
                self._conns.add(tls)
            conn = tls
            if self.stop_event.is_set():
                return
            tls.do_handshake()
            tls.settimeout(_Handler.timeout)
            _Handler(tls, addr, endpoint)
        except Exception:  # noqa: BLE001 - a client that hangs up or fails the handshake,
            pass  # or a lab bug outside a service, must never print a traceback
        finally:
            with self._lock:
                self._conns.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def stop(self) -> None:
        self.stop_event.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=2)
        for sock in self._listeners:
            sock.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._wake_r.close()
        self._wake_w.close()
