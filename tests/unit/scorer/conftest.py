"""Fixtures for scorer unit tests."""

from __future__ import annotations

from typing import Any

import pytest
from scorer_fakes import gold_history


@pytest.fixture
def gold() -> dict[str, list[dict[str, Any]]]:
    return gold_history()
