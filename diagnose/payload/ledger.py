"""The request ids this tool already sent, so that no test call reuses one (the service de-duplicates on them).

One line per call in `$XDG_STATE_HOME/diagnose/sent-request-ids` (default
`~/.local/state/...`): time, requestId, x-request-id, kind, campaignId,
tab-separated. Identifiers only, never a header value or a payload.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path


def default_path(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_STATE_HOME") or str(
        Path(env.get("HOME") or Path.home()) / ".local" / "state"
    )
    return Path(base) / "diagnose" / "sent-request-ids"


class Ledger:
    def __init__(self, path: Path | None = None):
        self.path = path or default_path()

    def _ids(self) -> set[str]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (FileNotFoundError, NotADirectoryError):
            return set()
        except (OSError, UnicodeDecodeError):
            return set()  # an unreadable ledger must not stop a check; send records anew
        ids: set[str] = set()
        for line in lines:
            fields = line.split("\t")
            ids.update(f for f in fields[1:3] if f)
        return ids

    def contains(self, request_id: str) -> bool:
        return bool(request_id) and request_id in self._ids()

    def record(self, request_id: str, x_request_id: str, kind: str, campaign_id: str) -> None:
        """Append one sent call; called before the call goes out, so a crash cannot lose it."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        clean = [_field(v) for v in (request_id, x_request_id, kind, campaign_id)]
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("\t".join([when, *clean]) + "\n")


def _field(value: str) -> str:
    return str(value).replace("\t", " ").replace("\n", " ").replace("\r", " ")
