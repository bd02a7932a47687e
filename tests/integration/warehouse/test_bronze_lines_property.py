"""Property: whatever a bronze file holds, the load accounts for every line and never crashes.

Lines are drawn from valid WHOOP cycle records, records with broken keys, arbitrary JSON,
arbitrary bytes (invalid UTF-8, ``\\r``, the coalescer's ``\\x01`` separator), blank and
whitespace lines; files may be torn or over the input limits. After ``load_bronze``:

* the file is either loaded or quarantined with a reason (``quarantine_files``);
* if loaded, every line is in exactly one place: a raw row whose payload is the line's text
  and whose keys are typed and non-null, a ``quarantine_records`` row with a known reason, or
  nowhere because it is blank/whitespace; line numbers are the file's own.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from shared.adapters.warehouse.duckdb import DuckDBWarehouse
from shared.ports.warehouse import BronzeFile, InputLimits

REASONS = {"invalid_json", "missing_key_fields", "bad_user_id", "bad_timestamp"}
LIMITS = InputLimits(max_inflated_bytes=64 << 10, max_line_bytes=2 << 10, max_lines=60)


def _cycle(i: int, user_id: Any, updated_at: Any, drop: str | None) -> bytes:
    record: dict[str, Any] = {
        "id": 1_000 + i,
        "user_id": user_id,
        "updated_at": updated_at,
        "score_state": "SCORED",
    }
    if drop:
        record.pop(drop, None)
    return json.dumps(record).encode()


records = st.builds(
    _cycle,
    st.integers(0, 10_000),
    st.one_of(st.integers(1, 2**63 - 1), st.integers(), st.text(max_size=5), st.none()),
    st.one_of(
        st.just("2025-03-12T04:05:51.207Z"),
        st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
        st.text(max_size=10),
    ),
    st.sampled_from([None, None, "id", "user_id", "updated_at"]),
)
no_newline = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b""))
lines = st.lists(
    st.one_of(
        records,
        records,
        st.recursive(
            st.none() | st.integers() | st.text(max_size=8),
            lambda x: st.lists(x, max_size=3) | st.dictionaries(st.text(max_size=4), x),
            max_leaves=6,
        ).map(lambda v: json.dumps(v).encode()),
        no_newline,
        st.sampled_from([b"", b"", b" ", b"\r", b"\t", b"{", b"\x01{}", b"x" * 3000]),
    ),
    max_size=70,
)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(body=lines, trailing_newline=st.booleans(), mangle=st.sampled_from(["gz", "plain", "torn"]))
def test_every_line_is_loaded_quarantined_or_blank(
    body: list[bytes], trailing_newline: bool, mangle: str
) -> None:
    text = b"\n".join(body) + (b"\n" if trailing_newline else b"")
    data = {"gz": gzip.compress(text), "plain": text, "torn": gzip.compress(text)[:-9]}[mangle]
    blob_path = "bronze/whoop/cycle/user_id=1/dt=2025-03-12/p.ndjson.gz"
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "f"
        local.write_bytes(data)
        wh = DuckDBWarehouse(Path(tmp) / "wh.duckdb")
        wh.ensure_schema()
        result = wh.load_bronze(
            "b1",
            [BronzeFile(blob_path, local, "cycle", "0x1", fetched_at=datetime.now(UTC))],
            limits=LIMITS,
        )
        raw = wh.query(
            "SELECT line_number, record_id, user_id, updated_at, CAST(payload AS VARCHAR) AS p "
            "FROM bronze.raw_cycle"
        )
        bad = wh.query("SELECT line_number, reason, raw_line FROM bronze.quarantine_records")
        files = wh.query("SELECT reason FROM bronze.quarantine_files")
        history = wh.query("SELECT status, rows FROM bronze.load_history")

    assert len(history) == 1
    event(f"file {history[0]['status']}" + (f": {files[0]['reason'][:12]}" if files else ""))
    if files:
        assert history[0]["status"] == "quarantined" and raw == [] and bad == []
        assert files[0]["reason"].startswith(("unreadable", "too_large"))
        assert result.quarantined == {blob_path: files[0]["reason"]}
        return
    assert history == [{"status": "loaded", "rows": len(raw)}]
    file_lines = text.split(b"\n")
    if trailing_newline:
        file_lines.pop()
    loaded = {r["line_number"]: r for r in raw}
    quarantined = {r["line_number"]: r for r in bad}
    assert len(loaded) == len(raw) and len(quarantined) == len(bad)
    assert not loaded.keys() & quarantined.keys()
    for n, line in enumerate(file_lines, start=1):
        if n in loaded:
            row = loaded[n]
            assert row["p"] == line.rstrip(b"\r").decode()
            assert row["record_id"] and row["updated_at"] is not None
            assert -(2**63) <= row["user_id"] < 2**63
        elif n in quarantined:
            assert quarantined[n]["reason"] in REASONS
        else:
            assert line.strip(b" \r") == b"", (n, line)
    assert max([*loaded, *quarantined], default=0) <= len(file_lines)
