"""Files: written so that a reader never sees half of one, read never past a limit."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO


def write_atomic(path: Path | str, data: bytes | str, mode: int = 0o600) -> None:
    """Write `data` to `path` through a temporary file in the same folder, then rename."""
    path = Path(path)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


MIB = 1024 * 1024


class TooLarge(ValueError):
    """A file or stream longer than the limit its reader allows."""

    def __init__(self, label: str, limit: int):
        super().__init__(f"{label} is larger than {describe_size(limit)}: refused")
        self.label = label
        self.limit = limit


def describe_size(size: int) -> str:
    """`1 MB`, `10 MB` (binary megabytes, as the limits are written), else bytes."""
    return f"{size // MIB} MB" if size % MIB == 0 else f"{size} bytes"


def read_limited(source: Path | str | BinaryIO, limit: int, label: str) -> bytes:
    """At most `limit` bytes of a file (or an open stream such as stdin); TooLarge past it.

    Reads `limit + 1` bytes at most, so `/dev/zero` or an endless pipe ends at once.
    OSError from opening or reading is the caller's to word.
    """
    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            return read_limited(handle, limit, label)
    data = source.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(label, limit)
    return data
