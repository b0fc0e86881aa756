"""The request a pasted cURL (or a bare JSON payload) describes: the value every payload part exchanges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from diagnose.payload import endpoints

MAX_INPUT_BYTES = 10 * 1024 * 1024  # a cURL command or payload file (a real one is kilobytes)


class PayloadSyntaxError(ValueError):
    """The input cannot be read as a cURL command or a JSON payload."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None):
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(where + problem)
        self.problem = problem
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Origin:
    """Where a part of the request came from, for messages: `-d at line 3, column 5`."""

    option: str
    line: int
    column: int
    file: str | None = None  # the @file a body was read from

    def describe(self) -> str:
        where = f"{self.option} at line {self.line}, column {self.column}"
        return f"{where} (file {self.file})" if self.file else where


@dataclass
class ParsedRequest:
    """A parsed cURL command or JSON payload.

    Header values may hold secrets: they are kept out of `repr` and no renderer
    prints them (only their names and whether they look usable).
    """

    format: str  # "curl" or "json"
    dialect: str | None = None  # posix, powershell, cmd (curl only)
    method: str | None = None
    url: str | None = None
    url_origin: Origin | None = None
    headers: list[tuple[str, str]] = field(default_factory=list, repr=False)
    body: Any = None  # the parsed JSON body, None when there is none
    body_text: str | None = field(default=None, repr=False)
    body_origin: Origin | None = None
    notes: list[str] = field(default_factory=list)  # what was read leniently or ignored

    @property
    def path(self) -> str:
        return urlsplit(self.url).path if self.url else ""

    @property
    def host(self) -> str | None:
        return urlsplit(self.url).hostname if self.url else None

    @property
    def host_class(self) -> str | None:
        return endpoints.host_class(self.url) if self.url else None

    @property
    def kind(self) -> str | None:
        """The execution kind the URL's path names (None for bare JSON or another path)."""
        return endpoints.kind_from_path(self.path) if self.url else None

    def header(self, name: str) -> str | None:
        """The last value of header `name` (case-insensitive), as curl would send it."""
        found = None
        for key, value in self.headers:
            if key.lower() == name.lower():
                found = value
        return found

    @property
    def payload(self) -> dict[str, Any] | None:
        return self.body if isinstance(self.body, dict) else None
