"""Open evidence (files, stdin, gzip) and hand it on as blocks of UTF-8 (or single-byte) text.

Encodings: UTF-8 (with or without BOM) and single-byte encodings pass through as
bytes (lines that are not UTF-8 are decoded as Windows-1252/Latin-1 later);
UTF-16/UTF-32 with a BOM (Windows PowerShell redirects), or UTF-16 recognised by
its NUL bytes, are transcoded to UTF-8 block by block. gzip is recognised by its
magic bytes, whatever the name. Binary data and other compressions are refused
with a message that says so.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, Protocol, cast

BLOCK_SIZE = 1 << 20

_OTHER_COMPRESSIONS = {
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"7z\xbc\xaf": "7z",
}
# Codecs named here consume their own BOM (utf-8-sig is skipped by hand and passed through).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_TEXT_CONTROLS = set(b"\t\n\r\f\v\x1b")


class _Reader(Protocol):
    """What the blocks are read from: a file, stdin, its buffered wrapper or a gzip stream."""

    def read(self, size: int = -1, /) -> bytes: ...


class InputProblem(Exception):
    """Evidence that cannot be read (entirely, or past some point)."""

    def __init__(self, message: str, partial: bool = False) -> None:
        super().__init__(message)
        self.partial = partial


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


@contextmanager
def open_raw(path: str) -> Iterator[BinaryIO]:
    """The raw byte stream of a path, or of stdin for `-`."""
    if path == "-":
        yield sys.stdin.buffer
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputProblem(f"{path}: cannot open: {exc.strerror or exc}") from None
    try:
        yield handle
    finally:
        handle.close()


def _peek(stream: _Reader, size: int = 4096) -> bytes:
    peek = getattr(stream, "peek", None)
    data = peek(size) if peek else b""
    return data[:size]


def _sniff(sample: bytes, name: str) -> str | None:
    """The encoding to transcode from (None: pass bytes through); InputProblem for binary data."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    for magic, kind in _OTHER_COMPRESSIONS.items():
        if sample.startswith(magic):
            raise InputProblem(
                f"{name}: {kind}-compressed data; only gzip is read (decompress it first)"
            )
    if b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
        raise InputProblem(f"{name}: binary data, not a text log (NUL bytes at the start)")
    controls = sum(1 for b in sample if b < 0x20 and b not in _TEXT_CONTROLS)
    if sample and controls > 0.05 * len(sample):
        raise InputProblem(f"{name}: binary data, not a text log (control bytes at the start)")
    return None


def _read_blocks(stream: _Reader, name: str, size: int) -> Iterator[bytes]:
    done = 0
    read = getattr(stream, "read1", stream.read)  # read1: what is there, so a cut keeps the rest
    while True:
        try:
            chunk = read(size)
        except (EOFError, OSError, zlib.error) as exc:
            corrupt = isinstance(exc, EOFError | zlib.error | gzip.BadGzipFile)
            what = "truncated or corrupt gzip data" if corrupt else f"read error ({exc})"
            raise InputProblem(
                f"{name}: {what} after {done} bytes; the result covers what was read",
                partial=True,
            ) from None
        if not chunk:
            return
        done += len(chunk)
        yield chunk


def blocks(stream: BinaryIO, name: str, size: int = BLOCK_SIZE) -> Iterator[bytes]:
    """Blocks of UTF-8 (or single-byte) text from a raw stream, whatever its framing."""
    if not hasattr(stream, "peek"):
        # a stream that cannot look ahead (a raw pipe, a BytesIO): BufferedReader reads what
        # it needs from it (read, readinto), which a BinaryIO's declared type does not promise
        stream = io.BufferedReader(cast(io.RawIOBase, stream))
    reader: _Reader = stream
    if _peek(stream, 2) == b"\x1f\x8b":
        reader = gzip.GzipFile(fileobj=stream, mode="rb")
        try:
            sample = _peek(reader)
        except (EOFError, OSError, zlib.error):
            raise InputProblem(
                f"{name}: truncated or corrupt gzip data; nothing could be read"
            ) from None
    else:
        sample = _peek(reader)
    encoding = _sniff(sample, name)
    if encoding is None:
        yield from _read_blocks(reader, name, size)
        return
    if encoding == "utf-8-sig":
        reader.read(len(codecs.BOM_UTF8))
        yield from _read_blocks(reader, name, size)
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    for chunk in _read_blocks(reader, name, size):
        yield decoder.decode(chunk).encode("utf-8", errors="replace")
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8", errors="replace")


def plain(path: str) -> int | None:
    """The size of `path` when it is a regular file of plain text (no compression, no
    transcoding: what `blocks` passes through as it is), else None."""
    if path == "-":
        return None
    try:
        with open(path, "rb") as handle:
            if not os.path.isfile(path):
                return None
            sample = handle.read(4096)
            size = os.fstat(handle.fileno()).st_size
    except OSError:
        return None
    if sample.startswith(b"\x1f\x8b"):
        return None
    try:
        return size if _sniff(sample, path) is None else None
    except InputProblem:
        return None
