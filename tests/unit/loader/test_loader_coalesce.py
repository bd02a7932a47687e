"""The batch coalescer the DuckDB load path relies on for exact file and line attribution."""

from __future__ import annotations

import gzip
from pathlib import Path

from shared.adapters.warehouse import coalesce as co


def lines_of(path: Path) -> list[tuple[int, bytes]]:
    out = []
    for raw in path.read_bytes().split(b"\n")[:-1]:
        idx, _, line = raw.partition(co.SEPARATOR)
        out.append((int(idx), line))
    return out


def test_every_line_is_tagged_and_counted_across_formats(tmp_path: Path) -> None:
    plain = tmp_path / "a.ndjson"
    plain.write_bytes(b'{"a":1}\n\n{"a":2}')  # blank line, no trailing newline
    members = tmp_path / "b.gz"
    members.write_bytes(gzip.compress(b'{"b":1}\n') + gzip.compress(b'{"b":2}\r\n'))
    empty = tmp_path / "c.gz"
    empty.write_bytes(gzip.compress(b""))

    merged = co.coalesce([(0, plain), (7, members), (9, empty)], tmp_path / "out")

    assert lines_of(tmp_path / "out") == [
        (0, b'{"a":1}'),
        (0, b""),
        (0, b'{"a":2}'),
        (7, b'{"b":1}'),
        (7, b'{"b":2}\r'),
    ]
    assert {i: (f.first_rn, f.lines) for i, f in merged.files.items()} == {
        0: (1, 3),
        7: (4, 2),
        9: (6, 0),
    }
    assert merged.total_lines == 5 and merged.unreadable == {}


def test_large_file_is_streamed_in_chunks(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(co, "CHUNK", 64)  # force many chunk boundaries inside lines
    body = b"".join(b'{"id": %d, "pad": "%s"}\n' % (i, b"x" * (i % 50)) for i in range(500))
    src = tmp_path / "big.gz"
    src.write_bytes(gzip.compress(body))

    merged = co.coalesce([(3, src)], tmp_path / "out")

    assert merged.files[3].lines == 500
    assert [line for _, line in lines_of(tmp_path / "out")] == body.split(b"\n")[:-1]


def test_torn_gzip_is_left_out_whole(tmp_path: Path) -> None:
    good = tmp_path / "good.gz"
    good.write_bytes(gzip.compress(b'{"ok":1}\n'))
    torn = tmp_path / "torn.gz"
    torn.write_bytes(gzip.compress(b'{"x":1}\n' * 1000)[:-30])
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(b"\x1f\x8bnot really gzip")

    merged = co.coalesce([(0, torn), (1, good), (2, garbage)], tmp_path / "out")

    assert set(merged.unreadable) == {0, 2}
    assert merged.unreadable[0].startswith("unreadable: EOFError")
    assert lines_of(tmp_path / "out") == [(1, b'{"ok":1}')]
    assert merged.files[1].first_rn == 1
