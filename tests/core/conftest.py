"""Fixtures shared by the core tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eduscribe_sdk import Settings
from eduscribe_sdk._store import Store, connect


@pytest.fixture
def store(redis_url: str, fast_settings: Settings) -> Iterator[Store]:
    """The job store on the suite's real Redis (an emptied database per test)."""
    s = Store(connect(redis_url, settings=fast_settings), settings=fast_settings)
    yield s
    s.redis.close()
