"""Bronze paths/lines/tombstones per docs/data-model.md, and backfill windows."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from extractor.domain import bronze
from extractor.domain.resources import SPECS, parse_ts, record_time
from extractor.domain.windows import split_windows
from shared.contracts import Resource

FETCHED = datetime(2025, 3, 12, 4, 5, 51, 207000, tzinfo=UTC)


def test_blob_path_layout() -> None:
    path = bronze.blob_path(Resource.SLEEP, 10129, FETCHED, "job1", 3)
    assert path == (
        "bronze/whoop/sleep/user_id=10129/dt=2025-03-12/20250312T040551207Z_job1_00003.ndjson.gz"
    )


def test_job_id_cannot_escape_the_folder() -> None:
    path = bronze.blob_path(Resource.SLEEP, 1, FETCHED, "webhook-../../x y", 0)
    assert path.endswith("_webhook-..-..-x-y_00000.ndjson.gz") and path.count("/") == 5


def test_lines_are_records_untouched() -> None:
    record = {"id": "ü-1", "score": {"strain": 11.873412, "x": None}, "nap": False, "n": 1.0}
    lines = gzip.decompress(bronze.ndjson_gz([record, record])).decode().splitlines()
    assert len(lines) == 2
    assert lines[0] == '{"id":"ü-1","score":{"strain":11.873412,"x":null},"nap":false,"n":1.0}'
    assert json.loads(lines[0]) == record
    assert bronze.ndjson_gz([record]) == bronze.ndjson_gz([record])  # deterministic bytes


def test_tombstone_shape() -> None:
    line = bronze.tombstone(
        Resource.RECOVERY,
        key_field="sleep_id",
        key="ecfc",
        user_id=10129,
        deleted_at=FETCHED,
        source="webhook",
    )
    assert line == {
        "wdp_tombstone": True,
        "resource": "recovery",
        "key_field": "sleep_id",
        "key": "ecfc",
        "user_id": 10129,
        "deleted_at": "2025-03-12T04:05:51.207Z",
        "source": "webhook",
    }


def test_metadata_fields() -> None:
    meta = bronze.metadata(
        user_id=1,
        resource=Resource.CYCLE,
        window_start=None,
        window_end=None,
        fetched_at=FETCHED,
        trace_id="abc",
        job_id="j",
    )
    assert set(meta) == {
        "user_id",
        "resource",
        "window_start",
        "window_end",
        "fetched_at",
        "trace_id",
        "job_id",
    }
    assert meta["window_start"] == "1970-01-01T00:00:00.000Z"
    assert meta["window_end"] == meta["fetched_at"] == "2025-03-12T04:05:51.207Z"


def test_resource_keys() -> None:
    recovery = {"cycle_id": 99, "sleep_id": "s-1", "created_at": "2025-03-11T12:20:05.301Z"}
    assert SPECS[Resource.RECOVERY].key(recovery) == "99"
    assert SPECS[Resource.RECOVERY].tombstone_key(recovery) == "s-1"
    assert record_time(SPECS[Resource.RECOVERY], recovery) == parse_ts("2025-03-11T12:20:05.301Z")
    assert parse_ts(None) is None and parse_ts("garbage") is None


def test_split_windows_cover_range_newest_first() -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=400)
    wins = split_windows(start, end, 180)
    assert wins[0][1] == end and wins[-1][0] == start
    assert all(a[0] == b[1] for a, b in zip(wins, wins[1:], strict=False))
    # 180 + 180 + a 40-day remainder (< a quarter window) → merged into the oldest window
    assert [w[1] - w[0] for w in wins] == [timedelta(days=180), timedelta(days=220)]
    thirds = split_windows(start, start + timedelta(days=460), 180)
    assert [w[1] - w[0] for w in thirds] == [timedelta(days=d) for d in (180, 180, 100)]
    merged = split_windows(start, start + timedelta(days=367), 365)
    assert merged == [(start, start + timedelta(days=367))]  # no 2-day sliver window
    with pytest.raises(ValueError):
        split_windows(start, end, 0)
