"""Read a trigger log: which execution was requested when (CSV or JSON lines / JSON array).

Columns/keys: an execution id (`executionId`, `execution_id`, `messageExecutionID`)
and a time (`requestedAt`, `requested_at`, `triggeredAt`, `triggerTime`,
`trigger_time`, `createdAt`, `timestamp`): ISO-8601 (naive means UTC) or epoch
seconds. The execution API's own 202 answer (executionId + createdAt) qualifies.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime
from pathlib import Path

from diagnose.errors import InputError

ID_KEYS = ("executionId", "execution_id", "messageExecutionID", "executionID")
TIME_KEYS = (
    "requestedAt",
    "requested_at",
    "triggeredAt",
    "triggerTime",
    "trigger_time",
    "createdAt",
    "timestamp",
)


# epoch seconds of 0001-01-01 and 9999-12-31T23:59:59Z: what a time can be at all
EARLIEST, LATEST = -62135596800.0, 253402300799.0


def _epoch_number(number: float, where: str, text: str) -> float:
    if not math.isfinite(number) or not EARLIEST <= number <= LATEST:
        raise InputError(
            f"{where}: {text!r} is not a time (epoch seconds must be finite, "
            "between years 1 and 9999)"
        )
    return number


def parse_time(value: object, where: str) -> float:
    """Epoch seconds from ISO-8601 text (naive = UTC) or a number (finite, years 1-9999)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return _epoch_number(float(value), where, str(value))
        except OverflowError:  # an int past a float's range
            raise InputError(f"{where}: {str(value)!r} is not a time") from None
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return _epoch_number(number, where, text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{where}: {text!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _pick(record: dict, keys: tuple[str, ...], what: str, where: str) -> object:
    for key in keys:
        if record.get(key) not in (None, ""):
            return record[key]
    raise InputError(f"{where}: no {what} (expected one of: {', '.join(keys)})")


def _records(path: Path) -> list[tuple[str, dict]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--trigger-log {path}: cannot read: {exc}") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except ValueError as exc:  # JSONDecodeError, or an integer past Python's digit limit
            raise InputError(f"--trigger-log {path}: not valid JSON: {exc}") from None
        return [(f"{path} item {i + 1}", item) for i, item in enumerate(items)]
    if stripped.startswith("{"):
        out = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append((f"{path}:{n}", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: not a JSON object: {exc.msg}") from None
            except ValueError as exc:  # an integer past Python's digit limit
                raise InputError(f"{path}:{n}: not a JSON object: {exc}") from None
        return out
    reader = csv.DictReader(text.splitlines())
    return [(f"{path}:{n}", row) for n, row in enumerate(reader, 2)]


def load(path: Path) -> tuple[tuple[str, float], ...]:
    """(executionId, trigger epoch seconds) pairs, the earliest time per execution."""
    earliest: dict[str, float] = {}
    for where, record in _records(path):
        if not isinstance(record, dict):
            raise InputError(f"{where}: expected an object with executionId and a time")
        execution = str(_pick(record, ID_KEYS, "execution id", where))
        at = parse_time(_pick(record, TIME_KEYS, "trigger time", where), where)
        earliest[execution] = min(at, earliest.get(execution, at))
    if not earliest:
        raise InputError(f"--trigger-log {path}: no executions in it")
    return tuple(sorted(earliest.items()))
