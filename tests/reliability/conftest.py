"""Helpers for the reliability suite: real worker processes, event history, slow switch.

Long variants are marked ``slow`` and skipped unless ``EDUSCRIBE_RUN_SLOW=1`` is set, or
``--run-slow`` is given together with this folder as a path (``pytest tests/reliability
--run-slow``): pytest reads options only from conftests it loads before parsing the command
line, and a plain ``pytest`` from the repository root loads this file too late for that.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from eduscribe_sdk import Settings
from eduscribe_sdk._models import JobEvent
from eduscribe_sdk._store import Store
from tests.core.jobs import OVERRIDES
from tests.workers import WorkerProcess

HERE = Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="run the long reliability variants (or set EDUSCRIBE_RUN_SLOW=1)",
    )


def slow_enabled(config: pytest.Config) -> bool:
    # getoption raises when the option was never registered (plain `pytest` from the root).
    return os.environ.get("EDUSCRIBE_RUN_SLOW") == "1" or bool(config.getoption("--run-slow", default=False))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if slow_enabled(config):
        return
    skip = pytest.mark.skip(reason="long variant: set EDUSCRIBE_RUN_SLOW=1 (or --run-slow)")
    for item in items:
        if item.get_closest_marker("slow") and HERE in Path(str(item.fspath)).parents:
            item.add_marker(skip)


def wait_for(predicate: Callable[[], object], timeout: float, what: str, *, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def all_events(store: Store) -> list[JobEvent]:
    """The whole event stream from its start (the tests stay far below its cap)."""
    events: list[JobEvent] = []
    cursor = "0-0"
    while batch := store.read_events(cursor, count=5000):
        events += batch
        cursor = batch[-1].id
    return events


def events_by_job(store: Store) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = defaultdict(list)
    for event in all_events(store):
        kinds[event.job_id].append(event.kind)
    return kinds


@pytest.fixture
def spawn_worker(redis_url: str, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def spawn(*, url: str | None = None, **kwargs: object) -> WorkerProcess:
        worker = WorkerProcess(url or redis_url, tmp_path / "home", **kwargs)  # type: ignore[arg-type]
        started.append(worker)
        return worker

    yield spawn
    for worker in started:
        worker.stop()


@pytest.fixture
def rel_settings(fast_settings: Settings) -> Settings:
    """Scripted jobs, and the product's own heartbeat timeout (10 s) as worker processes use."""
    return replace(
        fast_settings, heartbeat_timeout_s=10.0, heartbeat_interval_s=2.0, processor_overrides=OVERRIDES
    )
