"""The server backend: a PostgreSQL-protocol server (Query Service, or PostgreSQL itself).

SOURCE is a `postgresql://` URL (`postgres://`, any case, and SQLAlchemy's
`postgresql+driver://` are read as the same) or libpq's `key=value` form;
`postgresql://` alone takes everything from the standard `PG*` variables
(PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, ...). A URL with a raw '@' or
'/' in its password is refused unechoed (libpq would read the rest as the host).
The analysis runs as SQL on the server; only aggregates come back. Query Service
hosts (`*.platform-query.adobe.io`) get Spark SQL, other servers PostgreSQL's.
Passwords never appear in messages: `redact` removes them from driver errors.

Field layout on the server: nested, as Query Service exposes the dataset
(`_experience.customerJourneyManagement...`). On PostgreSQL that means composite
types (`("_experience")."customerJourneyManagement"...`): the flat layout cannot
exist there, because the dotted names run past PostgreSQL's 63-byte identifiers.
Flat columns are still probed as a fallback (short custom exports).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import socket
import threading
from collections.abc import Iterator
from typing import Any, NoReturn

from diagnose.delays.analysis import check_table, probe_sql
from diagnose.errors import CredentialRefused, InputError, ToolLimitation, Unreachable

QUERY_SERVICE_HOST = "platform-query.adobe.io"
CANCEL_GRACE = 5.0  # seconds a cancel request may take before the connection is cut

# postgresql://, postgres://, any case, with an optional SQLAlchemy-style +driver suffix
_SCHEME = re.compile(r"(postgres(?:ql)?)(\+[A-Za-z0-9_]+)?://", re.IGNORECASE)
_ANY_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# libpq's keyword/value form: `host=... port=... password=...`
_KEYWORD = re.compile(r"\s*([a-z_]+)\s*=")
_LIBPQ_KEYWORDS = frozenset(
    [
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "passfile",
        "service",
        "options",
        "application_name",
        "connect_timeout",
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "gssencmode",
        "target_session_attrs",
        "channel_binding",
        "require_auth",
        "load_balance_hosts",
    ]
)
_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_PASSWORD_WORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^\s]*@")

# libpq's messages about its own options (a configuration error, not the server's reach)
_CONFIG_ERROR = re.compile(
    r"invalid (integer value|port number|\w+ value)|invalid connection option", re.IGNORECASE
)

# PostgreSQL type OIDs -> kinds (the probe only needs these)
_KINDS = {1184: "timestamp", 1114: "timestamp", 25: "text", 1043: "text", 1042: "text", 19: "text"}
_NUMBERS = {20, 21, 23, 700, 701, 1700}


def is_server(source: str) -> bool:
    """A connection string: a postgres URL (any case, +driver allowed) or libpq's keyword form."""
    if _SCHEME.match(source):
        return True
    keyword = _KEYWORD.match(source)
    return bool(keyword and keyword.group(1) in _LIBPQ_KEYWORDS and not os.path.exists(source))


def other_scheme(source: str) -> str | None:
    """The scheme of a URL we do not speak (`mysql`, `https`...), None for anything else."""
    found = _ANY_SCHEME.match(source)
    return found.group(1) if found and not _SCHEME.match(source) else None


def safe_source(source: str) -> str:
    """SOURCE fit for a message: the password of `scheme://user:password@` or `password=` masked."""
    return _PASSWORD_WORD.sub(r"\1***", _USERINFO.sub(r"\1***@", source))


def normalize(source: str) -> str:
    """SOURCE as libpq reads it: `postgresql://` for any accepted scheme; InputError when malformed.

    libpq ends the user:password part at the first '@' (before any '/'), so an
    unencoded '@' or '/' in a password makes the rest of it a host name, which
    then appears in its errors: such URLs are refused without being echoed.
    """
    scheme = _SCHEME.match(source)
    if not scheme:
        return source  # the keyword form
    rest = source[scheme.end() :]
    end = min((i for i in (rest.find("@"), rest.find("/")) if i >= 0), default=-1)
    after = rest[end + 1 :] if end >= 0 and rest[end] == "@" else rest
    if "@" in after.split("?", 1)[0]:
        raise InputError(
            "SOURCE is not a valid postgresql:// URL: an '@' after the user:password part "
            "(percent-encode '@' as %40 and '/' as %2F in a user name or password; "
            "the URL is not shown, it may hold a password)"
        )
    return "postgresql://" + rest


def _params(url: str) -> dict[str, str]:
    """The effective connection parameters (URL, then PG* variables), for messages and the dialect."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except Exception as exc:  # psycopg.ProgrammingError: a malformed URL
        what = "postgresql:// URL" if "://" in url else "connection string (key=value)"
        raise InputError(f"SOURCE is not a valid {what}: {redact(str(exc).strip(), url)}") from None
    for key, env in (
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("user", "PGUSER"),
        ("dbname", "PGDATABASE"),
        ("sslmode", "PGSSLMODE"),
    ):
        if key not in params and os.environ.get(env):
            params[key] = os.environ[env]
    for port in params.get("port", "").split(","):
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            # not echoed: in `postgresql://user:password/db` (the @host forgotten) libpq
            # reads the password as the port
            raise InputError("SOURCE: the port is not a port number (1-65535)")
    if params.get("sslmode", "prefer") not in _SSLMODES:
        raise InputError(
            f"SOURCE: sslmode {params['sslmode']!r} is not one of {', '.join(_SSLMODES)}"
        )
    return params


def _secrets(url: str) -> list[str]:
    found = [os.environ.get("PGPASSWORD", "")]
    try:
        from psycopg.conninfo import conninfo_to_dict

        found.append(str(conninfo_to_dict(url).get("password") or ""))
    except Exception:  # noqa: BLE001 - a malformed URL: redact its authority part below
        pass
    if "://" in url and "@" in url:  # everything between :// and the last '@' may be secret
        authority = url.split("://", 1)[-1].rsplit("@", 1)[0]
        if ":" in authority:
            found.append(authority.split(":", 1)[1])
    found += [m.group(2).strip("'") for m in _PASSWORD_WORD.finditer(url)]
    return [s for s in found if s]


def redact(text: str, url: str) -> str:
    """`text` without any password the URL or PGPASSWORD holds (also percent-decoded)."""
    from urllib.parse import unquote

    for secret in _secrets(url):
        for form in {secret, unquote(secret)}:
            text = text.replace(form, "***")
    return text


def describe_url(url: str) -> str:
    """user@host:port/dbname, never the password."""
    p = _params(url)
    host = p.get("host", "localhost")
    where = f"{host}:{p['port']}" if "port" in p else host
    user = f"{p['user']}@" if "user" in p else ""
    return f"postgresql://{user}{where}/{p.get('dbname', '')}"


def dialect_for(url: str, requested: str = "auto") -> str:
    if requested != "auto":
        return requested
    return "spark" if QUERY_SERVICE_HOST in _params(url).get("host", "") else "postgres"


class ServerBackend:
    """One autocommit connection; each query of the analysis is one round trip of aggregates."""

    def __init__(
        self,
        url: str,
        table: str,
        dialect: str = "auto",
        connect_timeout: float = 10,
        query_timeout: float = 900,
    ) -> None:
        import psycopg

        self.url = url
        self.table = check_table(table)
        self.dialect = dialect_for(url, dialect)
        self.prefer = "nested"  # Query Service structs; PostgreSQL composite types
        self.where = describe_url(url)
        self.query_timeout = query_timeout
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": max(1, math.ceil(connect_timeout)),
            "application_name": "diagnose-delays",
            # simple query protocol, no prepared statements: what psql and Query Service speak
            "cursor_factory": psycopg.ClientCursor,
            "prepare_threshold": None,
        }
        params = _params(url)
        if "gssencmode" not in params and "PGGSSENCMODE" not in os.environ:
            kwargs["gssencmode"] = "disable"  # Query Service does not speak GSS encryption
        try:
            self.con = psycopg.connect(url, **kwargs)
        except psycopg.OperationalError as exc:
            message = redact(str(exc).strip(), url)
            if _CONFIG_ERROR.search(message):  # libpq refusing its own options: configuration
                raise InputError(f"SOURCE: {_last_line(message)}") from None
            if "password authentication failed" in message or "authentication" in message.lower():
                raise CredentialRefused(
                    f"{self.where}: the server refused the credentials: {_last_line(message)}"
                ) from None
            raise Unreachable(f"{self.where}: cannot connect: {_last_line(message)}") from None
        except psycopg.ProgrammingError as exc:
            raise InputError(f"SOURCE: {redact(str(exc), url)}") from None
        if self.dialect == "postgres":
            try:
                with self._deadline():
                    self.con.execute("SET TIME ZONE 'UTC'")
            except psycopg.Error as exc:
                self.con.close()
                self._raise(exc)

    @contextlib.contextmanager
    def _deadline(self) -> Iterator[None]:
        """Cancel the statement running inside from the client side after --query-timeout.

        Every statement runs inside one (probes and settings too: a lock held by
        another session blocks them as well). Works on any server, needs no setting.
        A server that ignores the cancel request loses the connection CANCEL_GRACE
        seconds later (the socket is shut down), so the command still ends.
        """
        done = threading.Event()
        self._timed_out = False

        def cancel() -> None:
            if done.is_set():
                return
            self._timed_out = True
            with contextlib.suppress(Exception):  # never a traceback from the timer thread
                self.con.cancel_safe(timeout=CANCEL_GRACE)
            if done.wait(CANCEL_GRACE):
                return
            with contextlib.suppress(Exception):
                sock = socket.socket(fileno=os.dup(self.con.pgconn.socket))
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()

        timer = threading.Timer(self.query_timeout, cancel)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            done.set()
            timer.cancel()

    def describe(self) -> str:
        return f"{self.where} table {self.table}"

    def probe(self, path: str, layout: str) -> str | None:
        import psycopg

        sql = probe_sql(path, layout, self.table, self.dialect)
        try:
            with self._deadline():
                cursor = self.con.execute(sql)
        except psycopg.errors.UndefinedColumn:
            return None
        except psycopg.errors.UndefinedTable:
            raise InputError(f"{self.where}: no table {self.table!r} (see --table)") from None
        except psycopg.Error as exc:
            self._raise(exc)
        if not cursor.description:  # a SELECT describes its columns, even with no rows
            raise ToolLimitation(
                f"{self.describe()}: the server did not describe the probed column"
            )
        oid = cursor.description[0].type_code
        return _KINDS.get(oid) or ("number" if oid in _NUMBERS else "other")

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        import psycopg
        from psycopg.rows import dict_row

        try:
            with self._deadline(), self.con.cursor(row_factory=dict_row) as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())
        except psycopg.Error as exc:
            self._raise(exc)

    def _raise(self, exc: Exception) -> NoReturn:
        import psycopg

        diag = getattr(exc, "diag", None)
        primary = getattr(diag, "message_primary", None)  # not the caret line of a syntax error
        message = redact(primary or _last_line(str(exc)), self.url)
        state = getattr(exc, "sqlstate", None) or ""
        if state == "57014" or getattr(self, "_timed_out", False):
            unanswered = "" if state == "57014" else "; the server ignored the cancel request"
            raise Unreachable(
                f"{self.describe()}: a query ran past --query-timeout ({self.query_timeout:g} s)"
                + unanswered
            ) from None
        if (
            isinstance(exc, psycopg.OperationalError)
            or state.startswith(("08", "28", "57"))
            or state == "42501"
        ):
            raise ToolLimitation(f"{self.describe()}: {message}") from None
        if state.startswith("22") or state in ("42804", "42846", "42883"):
            raise InputError(f"{self.describe()}: wrong value type: {message}") from None
        raise InputError(
            f"{self.describe()}: the server rejected the analysis: {message}"
        ) from None

    def close(self) -> None:
        self.con.close()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else text
