"""Fixtures for the extractor integration tests (helpers live in ``extractor_harness``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from extractor_harness import Harness, make_harness


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h, _ = await make_harness(tmp_path)
    try:
        yield h
    finally:
        await h.app.close()
        await h.http.aclose()
