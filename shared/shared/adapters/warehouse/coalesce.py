"""Coalesce a micro-batch of bronze files into ONE tagged NDJSON file for a single DuckDB scan.

Why: a 25-record page file is ~15 KB; opening, sniffing and scanning each one in DuckDB costs
more than its rows. Inflating every file of the batch into one plain file costs tens of
microseconds per file and leaves DuckDB one sequential scan. Each line is prefixed with
``<file index>\\x01`` so the scan knows its file without a range join, and the per-file line
counts give exact 1-based line numbers (``rn - first_rn + 1``).

The per-line prefix is added by ``bytes.replace`` on whole chunks (C speed), never by a Python
loop over lines; memory stays constant in file size (1 MiB chunks). Decompression uses ISA-L
(``isal``, same API and checks as ``zlib``: CRC32 and size trailer verified, concatenated members
read) because it inflates 2.3x faster than zlib on this data (1.05 -> 0.45 s per 540 MB).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from isal import isal_zlib

from shared.adapters.warehouse.bronze import GZIP_MAGIC

SEPARATOR = b"\x01"  # cannot appear unescaped in valid JSON
CHUNK = 1 << 20
#: isal's stub declares ``error`` as an instance; at run time it is the exception class.
ISAL_ERROR = cast(type[Exception], isal_zlib.error)


@dataclass
class CoalescedFile:
    """Where each input landed in the combined file."""

    idx: int
    first_rn: int
    lines: int


@dataclass
class Coalesced:
    """The combined file, per-file line accounting, and files that could not be read."""

    path: Path
    files: dict[int, CoalescedFile] = field(default_factory=dict)
    unreadable: dict[int, str] = field(default_factory=dict)

    @property
    def total_lines(self) -> int:
        """Lines written (what DuckDB must read back)."""
        return sum(f.lines for f in self.files.values())


class _TaggedWriter:
    """Writes ``prefix`` at the start of every line of a byte stream, counting lines."""

    def __init__(self, out: BinaryIO, prefix: bytes) -> None:
        self.out = out
        self.prefix = prefix
        self.tagged_newline = b"\n" + prefix
        self.at_line_start = True
        self.lines = 0

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self.at_line_start:
            self.out.write(self.prefix)
        newlines = chunk.count(b"\n")
        if chunk.endswith(b"\n"):
            self.out.write(chunk[:-1].replace(b"\n", self.tagged_newline))
            self.out.write(b"\n")
            self.at_line_start = True
        else:
            self.out.write(chunk.replace(b"\n", self.tagged_newline))
            self.at_line_start = False
        self.lines += newlines

    def finish(self) -> None:
        if not self.at_line_start:  # last line had no newline
            self.out.write(b"\n")
            self.lines += 1
            self.at_line_start = True


def _copy_plain(src: BinaryIO, writer: _TaggedWriter) -> None:
    while chunk := src.read(CHUNK):
        writer.write(chunk)


def _copy_gzip(src: BinaryIO, writer: _TaggedWriter) -> None:
    """Decompress every gzip member (concatenated members are valid gzip) in chunks.

    Raises:
        isal_zlib.error: corrupt stream or checksum. EOFError: truncated stream.
    """
    decomp = isal_zlib.decompressobj(wbits=31)
    while True:
        chunk = src.read(CHUNK)
        if not chunk:
            break
        data = chunk
        while data:
            writer.write(decomp.decompress(data, CHUNK))
            data = decomp.unconsumed_tail
            while not data and decomp.eof and decomp.unused_data:
                rest = decomp.unused_data
                decomp = isal_zlib.decompressobj(wbits=31)
                data = rest
    if not decomp.eof:
        raise EOFError("compressed file ended before the end-of-stream marker was reached")
    writer.write(decomp.flush())


def coalesce(paths: Sequence[tuple[int, Path]], destination: Path) -> Coalesced:
    """Write every readable input into ``destination``; unreadable ones are left out whole.

    Args:
        paths: ``(file index, local path)``; the index becomes each line's prefix.
        destination: the combined plain NDJSON file (created or truncated).
    """
    result = Coalesced(path=destination)
    next_rn = 1
    with destination.open("wb") as out:
        for idx, path in paths:
            start = out.tell()
            writer = _TaggedWriter(out, str(idx).encode() + SEPARATOR)
            try:
                with path.open("rb") as src:
                    head = src.read(2)
                    src.seek(0)
                    if head == GZIP_MAGIC:
                        _copy_gzip(src, writer)
                    else:
                        _copy_plain(src, writer)
                writer.finish()
            except (OSError, EOFError, ISAL_ERROR) as exc:
                out.seek(start)
                out.truncate(start)
                result.unreadable[idx] = f"unreadable: {type(exc).__name__}: {exc}"
                continue
            result.files[idx] = CoalescedFile(idx=idx, first_rn=next_rn, lines=writer.lines)
            next_rn += writer.lines
    return result
