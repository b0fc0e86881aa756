"""Baselines: known findings accepted until a date, so that a gate fails only on what is new.

The file is JSON, a list of `{"code", "resource", "reason", "expires"}` (`expires` a date,
YYYY-MM-DD, or null for no end). A finding whose cause code and resource (the account's ARM id)
match an entry is accepted until the entry expires; after that it fails again, said as an expired
acceptance. `--write-baseline` writes the current findings as a starting file, each accepted for
DEFAULT_DAYS (decision: acceptances end unless renewed; the issue is silent on a default).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from diagnose.errors import InputError

DEFAULT_DAYS = 90
KEYS = ("code", "resource", "reason", "expires")


@dataclass(frozen=True)
class Acceptance:
    code: str
    resource: str
    reason: str
    expires: date | None

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "resource": self.resource,
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
        }


class Baseline:
    def __init__(self, acceptances: list[Acceptance], path: Path | None = None) -> None:
        self.acceptances = acceptances
        self.path = path
        self._by_key = {(a.code, a.resource.lower()): a for a in acceptances}

    def find(self, code: str, resource: str) -> Acceptance | None:
        return self._by_key.get((code, resource.lower()))


def load(path: Path) -> Baseline:
    """The baseline in `path`; InputError naming the file and the entry for anything malformed."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the baseline {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"the baseline {path} is not JSON: {exc}") from None
    if not isinstance(raw, list):
        raise InputError(f"the baseline {path} must be a JSON list of {{{', '.join(KEYS)}}}")
    out: list[Acceptance] = []
    for n, item in enumerate(raw):
        where = f"the baseline {path}, entry {n}"
        if not isinstance(item, dict):
            raise InputError(f"{where} is not an object")
        unknown = sorted(set(item) - set(KEYS))
        if unknown:
            raise InputError(f"{where} has unknown key(s): {', '.join(unknown)}")
        for key in ("code", "resource", "reason"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise InputError(f"{where} needs a non-empty string {key!r}")
        expires = item.get("expires")
        if expires is not None and not isinstance(expires, str):
            raise InputError(f"{where}: 'expires' must be a date (YYYY-MM-DD) or null")
        try:
            day = date.fromisoformat(expires) if expires else None
        except ValueError:
            raise InputError(f"{where}: 'expires' {expires!r} is not a date (YYYY-MM-DD)") from None
        out.append(Acceptance(item["code"], item["resource"], item["reason"], day))
    return Baseline(out, path)


def write(path: Path, findings: list[tuple[str, str]], today: date) -> Baseline:
    """Write `findings` ((code, resource) pairs) as a starting baseline; the baseline written."""
    until = today + timedelta(days=DEFAULT_DAYS)
    accepted = [
        Acceptance(
            code, resource, "accepted when the baseline was written; say why, or fix it", until
        )
        for code, resource in dict.fromkeys(findings)
    ]
    text = json.dumps([a.to_json() for a in accepted], indent=2) + "\n"
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the baseline {path}: {exc.strerror}") from None
    return Baseline(accepted, path)
