"""The batch coalescer the DuckDB load path relies on for exact file and line attribution."""

from __future__ import annotations

import gzip
from pathlib import Path

from shared.adapters.warehouse import coalesce as co
from shared.ports.warehouse import InputLimits


def lines_of(path: Path) -> list[tuple[int, bytes]]:
    out = []
    for raw in path.read_bytes().split(b"\n")[:-1]:
        idx, _, line = raw.partition(co.SEPARATOR)
        out.append((int(idx), line))
    return out


def test_every_line_is_tagged_and_counted_across_formats(tmp_path: Path) -> None:
    plain = tmp_path / "a.ndjson"
    plain.write_bytes(b'{"a":1}\n\n{"a":2}')  # empty line, no trailing newline
    members = tmp_path / "b.gz"
    members.write_bytes(gzip.compress(b'{"b":1}\n') + gzip.compress(b'{"b":2}\r\n'))
    empty = tmp_path / "c.gz"
    empty.write_bytes(gzip.compress(b""))

    merged = co.coalesce([(0, plain), (7, members), (9, empty)], tmp_path / "out")

    # the empty line is not written: line 3 of file 0 resumes in a new segment
    assert lines_of(tmp_path / "out") == [
        (0, b'{"a":1}'),
        (1, b'{"a":2}'),
        (2, b'{"b":1}'),
        (2, b'{"b":2}\r'),
    ]
    assert [(s.seg, s.file_idx, s.first_rn, s.first_line) for s in merged.segments] == [
        (0, 0, 1, 1),
        (1, 0, 2, 3),
        (2, 7, 3, 1),
    ]
    assert {i: (f.first_rn, f.lines) for i, f in merged.files.items()} == {
        0: (1, 2),
        7: (3, 2),
        9: (5, 0),
    }
    assert merged.total_lines == 4 and merged.unreadable == {}


def line_numbers(merged: co.Coalesced, path: Path) -> list[tuple[int, int, bytes]]:
    """(file index, 1-based line number in its file, text), as the classify SQL computes."""
    segs = {s.seg: s for s in merged.segments}
    out = []
    for rn, (seg, line) in enumerate(lines_of(path), start=1):
        s = segs[seg]
        out.append((s.file_idx, rn - s.first_rn + s.first_line, line))
    return out


def test_empty_lines_keep_exact_line_numbers_across_chunk_boundaries(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(co, "CHUNK", 7)  # runs of empty lines straddle chunk boundaries
    text = b"\n\n" + b"a1\n\n\n\nb22\nc333\n" + b"\n" * 20 + b"d4\n\ne5"
    src = tmp_path / "x.gz"
    src.write_bytes(gzip.compress(text))

    merged = co.coalesce([(4, src)], tmp_path / "out")

    expected = [(4, n, line) for n, line in enumerate(text.split(b"\n"), start=1) if line]
    assert line_numbers(merged, tmp_path / "out") == expected
    assert merged.files[4].lines == 5


def test_newline_bomb_writes_nothing(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.gz"
    bomb.write_bytes(gzip.compress(b"\n" * (8 << 20)))

    merged = co.coalesce([(0, bomb)], tmp_path / "out")

    assert (tmp_path / "out").stat().st_size == 0
    assert merged.files[0].lines == 0 and merged.segments == []


def test_files_over_the_limits_are_left_out_with_a_too_large_reason(tmp_path: Path) -> None:
    limits = InputLimits(max_inflated_bytes=4096, max_line_bytes=100, max_lines=10)
    inflated = tmp_path / "inflated.gz"
    inflated.write_bytes(gzip.compress(b"\n" * 5000))
    long_line = tmp_path / "long.ndjson"
    long_line.write_bytes(b'{"a":1}\n' + b"x" * 101 + b"\n")
    many = tmp_path / "many.gz"
    many.write_bytes(gzip.compress(b"{}\n" * 11))
    fine = tmp_path / "fine.gz"
    fine.write_bytes(gzip.compress(b"{}\n" * 9 + b"\n" * 100 + b"x" * 100))

    merged = co.coalesce(
        [(0, inflated), (1, long_line), (2, many), (3, fine)], tmp_path / "out", limits
    )

    assert merged.unreadable == {
        0: "too_large: inflates to more than 4096 bytes (max_inflated_bytes)",
        1: "too_large: a line is longer than 100 bytes (max_line_bytes)",
        2: "too_large: more than 10 non-blank lines (max_lines)",
    }
    assert [f for _, f in lines_of(tmp_path / "out")][-1] == b"x" * 100
    assert merged.files[3].lines == 10


def test_a_long_line_inside_one_chunk_is_caught(tmp_path: Path) -> None:
    limits = InputLimits(max_line_bytes=10)
    src = tmp_path / "x.ndjson"
    src.write_bytes(b"short\n" + b"y" * 11 + b"\nshort\n")

    merged = co.coalesce([(0, src)], tmp_path / "out", limits)

    assert merged.unreadable[0].startswith("too_large: a line is longer than 10 bytes")


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
    assert line_numbers(merged, tmp_path / "out") == [(1, 1, b'{"ok":1}')]
    assert merged.files[1].first_rn == 1
