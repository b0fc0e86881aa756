"""What a service answered, taken as evidence only when it is well-formed.

Two guards every client shares:
- `cap_session`: a `requests` session (ours, or the one under an Azure SDK's transport)
  refuses an answer above `MAX_ANSWER_BYTES` without reading it whole into memory
  (`AnswerTooLarge`, naming the service and the size).
- `Fields`: a JSON object read field by field with the type each field must have; an
  absent required field or a field of another type is a `MalformedAnswer` naming it
  ("ARM's answer for the vault had no `properties`").

Both are `UnexpectedAnswer`s: a `ToolLimitation` (the check is undecided, exit 3), never
a finding about the customer's setup.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from diagnose.errors import ToolLimitation
from diagnose.files import MIB, describe_size

if TYPE_CHECKING:
    import requests

MAX_ANSWER_BYTES = 16 * MIB
T = TypeVar("T")


class UnexpectedAnswer(ToolLimitation):
    """A service answered something that is evidence of nothing: a malformed, empty or oversized body,
    a status without the service's own error code, a throttle that outlasted the retries."""


class MalformedAnswer(UnexpectedAnswer):
    """A field the tool needs is absent or of another type than the service documents."""


class AnswerTooLarge(UnexpectedAnswer):
    """An answer above MAX_ANSWER_BYTES (refused while reading, never held whole)."""

    def __init__(self, service: str, size: int | None, limit: int) -> None:
        said = f" (it announced {size:,} bytes)" if size is not None else ""
        super().__init__(
            f"{service}'s answer is larger than {describe_size(limit)}{said}: refused, not read"
        )


# -- statuses that are no evidence -------------------------------------------------------------------

# Statuses a service answers when it is overloaded or failing (retried, then reported as such).
TRANSIENT = (408, 429, 500, 502, 503, 504)


def refused_in_own_words(status: int, code: str | None) -> bool:
    """Whether a non-2xx answer is the service's own refusal, evidence about the setup: it carries
    the service's error code (in its documented shape) and is neither a throttle nor a 5xx."""
    return code is not None and status not in TRANSIENT and status < 500


def times(count: int) -> str:
    return {1: "once", 2: "twice", 3: "three times"}.get(count, f"{count} times")


def unexplained_status(
    service: str,
    status: int,
    code: str | None,
    what: str,
    attempts: int | None = None,
    detail: str = "",
    note: str = "",
) -> UnexpectedAnswer:
    """The limitation a non-2xx answer is when it is no evidence about the setup: a throttle or
    5xx that outlasted the retries ("answered 503 three times"; `attempts` None when the SDK
    counted them), a 401/403/404 without the service's own error code (a gateway's, proxy's or
    firewall's page), any other status. `note` is added at the end."""
    said = f" ({code}{': ' + detail if detail else ''})" if code else ""
    if code is None and status in (401, 403, 404):
        page = "a gateway or proxy page?" if status == 404 else "a firewall or proxy page?"
        text = f"{service} answered {status} without an error code for {what} ({page})"
    elif status in TRANSIENT and attempts:
        text = f"{service} answered {status} {times(attempts)} for {what}{said}"
    else:
        text = f"{service} answered {status} for {what}{said}"
    return UnexpectedAnswer(text + note)


# -- bounded answers ------------------------------------------------------------------------------


class _CappedRaw:
    """A urllib3 response whose body may not grow past `limit` bytes (decoded) however it is read."""

    def __init__(self, raw: Any, limit: int, service: str) -> None:
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_limit", limit)
        object.__setattr__(self, "_service", service)
        object.__setattr__(self, "_seen", 0)

    def _count(self, chunk: bytes) -> bytes:
        seen = self._seen + len(chunk)
        object.__setattr__(self, "_seen", seen)
        if seen > self._limit:
            self._raw.close()
            raise AnswerTooLarge(self._service, None, self._limit)
        return chunk

    def stream(
        self, amt: int | None = 2**16, decode_content: bool | None = None
    ) -> Iterator[bytes]:
        for chunk in self._raw.stream(amt, decode_content=decode_content):
            yield self._count(chunk)

    def read(self, amt: int | None = None, *args: Any, **kwargs: Any) -> bytes:
        if amt is None:  # "everything": in bounded steps, so that the bound holds
            return b"".join(iter(lambda: self.read(2**16, *args, **kwargs), b""))
        return self._count(self._raw.read(amt, *args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._raw, name, value)


def cap_session(
    session: requests.Session, service: str, limit: int = MAX_ANSWER_BYTES
) -> requests.Session:
    """Make every answer `session` receives bounded (idempotent; returns the session)."""

    def bound(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > limit:
            response.close()
            raise AnswerTooLarge(service, int(length), limit)
        if not isinstance(response.raw, _CappedRaw):
            response.raw = _CappedRaw(response.raw, limit, service)
        return response

    hooks = session.hooks.setdefault("response", [])
    if not any(getattr(h, "diagnose_cap", False) for h in hooks):
        bound.diagnose_cap = True  # type: ignore[attr-defined]
        hooks.append(bound)
    return session


# -- well-formed answers -----------------------------------------------------------------------------

_TYPE_NAMES = {
    bool: "a boolean",
    str: "a string",
    int: "a number",
    float: "a number",
    list: "a list",
    dict: "an object",
    type(None): "null",
}


def type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class Fields:
    """A JSON object from a service, read with the types the service documents.

    `where` names the answer in messages ("ARM's answer for the vault"); `text`, `flag`,
    `number`, `obj`, `objects`, `texts` require the field, the `opt_` forms accept it
    absent or null (None, or an empty list).
    """

    def __init__(self, data: Mapping[str, Any], where: str, path: str = "") -> None:
        self.raw = data
        self.where = where
        self.path = path

    @classmethod
    def of(cls, body: object, where: str) -> Fields:
        """`body` as Fields; MalformedAnswer when it is not a JSON object."""
        if isinstance(body, Mapping):
            return cls(body, where)
        if body is None or body == "":
            raise MalformedAnswer(f"{where} was empty")
        what = "not JSON" if isinstance(body, str | bytes) else f"{type_name(body)}, not an object"
        raise MalformedAnswer(f"{where} was {what}")

    def _name(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def malformed(self, name: str, why: str) -> MalformedAnswer:
        return MalformedAnswer(f"{self.where}: `{self._name(name)}` {why}")

    def _get(self, name: str, kinds: tuple[type, ...], expected: str, required: bool) -> Any:
        value = self.raw.get(name)
        if value is None:
            if required:
                raise MalformedAnswer(f"{self.where} had no `{self._name(name)}`")
            return None
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            raise self.malformed(name, f"is {type_name(value)}, not {expected}")
        return value

    def text(self, name: str) -> str:
        return str(self._get(name, (str,), "a string", True))

    def opt_text(self, name: str) -> str | None:
        value = self._get(name, (str,), "a string", False)
        return None if value is None else str(value)

    def flag(self, name: str) -> bool:
        return bool(self._get(name, (bool,), "a boolean", True))

    def opt_flag(self, name: str) -> bool | None:
        value = self._get(name, (bool,), "a boolean", False)
        return None if value is None else bool(value)

    def number(self, name: str) -> int | float:
        value: int | float = self._get(name, (int, float), "a number", True)
        return value

    def opt_number(self, name: str) -> int | float | None:
        value: int | float | None = self._get(name, (int, float), "a number", False)
        return value

    def obj(self, name: str) -> Fields:
        return Fields(self._get(name, (dict,), "an object", True), self.where, self._name(name))

    def opt_obj(self, name: str) -> Fields | None:
        value = self._get(name, (dict,), "an object", False)
        return None if value is None else Fields(value, self.where, self._name(name))

    def obj_or_empty(self, name: str) -> Fields:
        """The object, or an empty one when it is absent or null (its `opt_` fields then absent)."""
        return self.opt_obj(name) or Fields({}, self.where, self._name(name))

    def _list(self, name: str, required: bool) -> list[Any]:
        return list(self._get(name, (list,), "a list", required) or [])

    def objects(self, name: str, required: bool = True) -> list[Fields]:
        items = []
        for i, item in enumerate(self._list(name, required)):
            if not isinstance(item, dict):
                raise self.malformed(f"{name}[{i}]", f"is {type_name(item)}, not an object")
            items.append(Fields(item, self.where, f"{self._name(name)}[{i}]"))
        return items

    def opt_objects(self, name: str) -> list[Fields]:
        return self.objects(name, required=False)

    def texts(self, name: str, required: bool = True) -> list[str]:
        items = self._list(name, required)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise self.malformed(f"{name}[{i}]", f"is {type_name(item)}, not a string")
        return [str(i) for i in items]

    def opt_texts(self, name: str) -> list[str]:
        return self.texts(name, required=False)

    def opt_mapping(self, name: str) -> dict[str, Fields]:
        """An object whose values are objects (e.g. `userAssignedIdentities`), by key; {} when absent."""
        found = self.opt_obj(name)
        if found is None:
            return {}
        out = {}
        for key, value in found.raw.items():
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise found.malformed(key, f"is {type_name(value)}, not an object")
            out[key] = Fields(value, self.where, found._name(key))
        return out
