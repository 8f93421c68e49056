"""Fixtures shared by the core tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from eduscribe_sdk import Settings
from eduscribe_sdk._store import Store, connect
from tests.workers import WorkerProcess

#: Starts a ``dramatiq eduscribe_sdk.actors`` subprocess on the test Redis (``spawn``).
Spawn = Callable[..., WorkerProcess]


@pytest.fixture
def store(redis_url: str, fast_settings: Settings) -> Iterator[Store]:
    """The job store on the suite's real Redis (an emptied database per test)."""
    s = Store(connect(redis_url, settings=fast_settings), settings=fast_settings)
    yield s
    s.redis.close()


@pytest.fixture
def spawn(redis_url: str, tmp_path: Path) -> Iterator[Spawn]:
    """Start subprocess workers (``WorkerProcess`` options) that stop when the test ends."""
    started: list[WorkerProcess] = []

    def start(**kwargs: int) -> WorkerProcess:
        worker = WorkerProcess(redis_url, tmp_path / "home", **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    # Shown by pytest only when the test failed: what the workers said.
    for log in dict.fromkeys(worker.log for worker in started):
        print(f"--- {log} (last 4,000 characters)\n{log.read_text(errors='replace')[-4000:]}")
