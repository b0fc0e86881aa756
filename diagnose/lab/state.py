"""The lab's shared state: the world, what downstream services observe of it, and the logs.

Writes through the APIs go through `State.write()`: the world changes at once
(Graph, ARM and Key Vault show it), while Cosmos DB, AJO and the BYOK status keep
seeing the previous state for `propagation_s` (docs/lab.md "Derived state").
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from diagnose.lab.derived import Observed, observe
from diagnose.lab.world import World


@dataclass
class RequestRecord:
    """One request the lab received: never a token, a secret or a body."""

    service: str
    method: str
    path: str
    status: int | None = None  # None while the answer is pending (or never sent)
    write: bool = False
    caller_app_id: str | None = None
    at: float = field(default_factory=time.time)
    fault: str | None = None  # the fault kind this request got (diagnose/lab/faults.py), if any


REQUEST_LOG_MAX = 100_000


class State:
    def __init__(self, world: World, propagation_s: float) -> None:
        self.world = world
        self.propagation_s = propagation_s
        self.lock = threading.RLock()
        # bounded: a `lab serve` left running for days must not grow without limit
        self.requests: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_MAX)
        self._ajo_log: list[str] = []
        self.audience_executions: dict[str, str] = {}  # executionId -> status
        self._held: tuple[float, Observed] | None = None  # (until, what is still observed)

    def observed(self) -> Observed:
        """What Cosmos DB, AJO and Experience Platform see now."""
        with self.lock:
            now = time.time()
            if self._held and now < self._held[0]:
                return self._held[1]
            self._held = None
            return observe(self.world, now)

    @contextmanager
    def write(self) -> Iterator[World]:
        """Change the world through an API; downstream services see it after the delay."""
        with self.lock:
            before = self.observed()
            yield self.world
            if self.propagation_s > 0:
                self._held = (time.time() + self.propagation_s, before)

    def record(self, rec: RequestRecord) -> RequestRecord:
        with self.lock:
            self.requests.append(rec)
        return rec

    def log_ajo(self, **event: object) -> None:
        line = json.dumps({"timestamp": _iso(time.time()), **event}, sort_keys=False)
        with self.lock:
            self._ajo_log.append(line)

    def ajo_log(self) -> str:
        with self.lock:
            return "".join(line + "\n" for line in self._ajo_log)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"
