"""The worker runtime (``eduscribe_sdk/_worker``): one middleware per module, refusals with
named errors, the message's acknowledgement, held jobs, and the actor's output going back on
the run (no warning from dramatiq per job).

That ``dramatiq eduscribe_sdk.actors`` still starts and runs jobs is covered by
``tests/core/test_subprocess_workers.py`` (and every reliability test that spawns workers).
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from dramatiq.middleware import Middleware, SkipMessage

import eduscribe_sdk._worker as worker_package
from eduscribe_sdk import (
    Client,
    ConfigError,
    JobSpec,
    JobStatus,
    JobType,
    Settings,
    UnsupportedOperationError,
)
from eduscribe_sdk._store import Settlement, Store
from eduscribe_sdk._worker import (
    LOGICAL_QUEUE,
    JobLifecycle,
    JobMessage,
    WorkerHeartbeat,
    WorkerRuntime,
    build_broker,
)
from tests.core.jobs import OVERRIDES, plan


def middleware_by_module() -> dict[str, list[type[Middleware]]]:
    found: dict[str, list[type[Middleware]]] = {}
    for info in pkgutil.iter_modules(worker_package.__path__, f"{worker_package.__name__}."):
        module = importlib.import_module(info.name)
        found[info.name] = [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, Middleware) and cls.__module__ == module.__name__
        ]
    return found


def test_each_middleware_has_a_module_of_its_own() -> None:
    found = middleware_by_module()
    assert all(len(classes) <= 1 for classes in found.values()), found
    assert found["eduscribe_sdk._worker.lifecycle"] == [JobLifecycle]
    assert found["eduscribe_sdk._worker.heartbeat"] == [WorkerHeartbeat]


def test_the_broker_refuses_what_only_the_store_may_do() -> None:
    broker = build_broker(None, Settings())
    actor = broker.get_actor("text_notes")
    with pytest.raises(UnsupportedOperationError, match="create_job"):
        actor.send("job-id")
    for refused in (lambda: broker.flush("eduscribe"), broker.flush_all, lambda: broker.join("eduscribe")):
        with pytest.raises(UnsupportedOperationError):
            refused()


def test_a_worker_without_redis_says_which_setting_is_missing() -> None:
    with pytest.raises(ConfigError) as info:
        _ = WorkerRuntime(None, Settings()).store
    assert info.value.setting == "EDUSCRIBE_REDIS_URL"


def test_jobs_run_without_dramatiq_warning_about_return_values(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="dramatiq"):
        client.submit_text("Cells divide by mitosis. Each daughter cell gets a full set.").wait(timeout=60)
    assert not [r for r in caplog.records if "returned a value" in r.getMessage()]


def test_the_lifecycle_acknowledges_every_message_once(
    store: Store, fast_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.create_jobs([JobSpec(job_type=JobType.TEXT_NOTES, input_data=plan(), user_id="u") for _ in "ab"])
    broker = build_broker(store, fast_settings)
    (lifecycle,) = [m for m in broker.middleware if isinstance(m, JobLifecycle)]
    consumer = broker.consume(LOGICAL_QUEUE, prefetch=4, timeout=100)
    calls: list[list[str]] = []
    settle_many = store.settle_many

    def counting(worker_id: str, settlements: Sequence[Settlement]) -> list[bool]:
        calls.append([s.op for s in settlements])
        return settle_many(worker_id, settlements)

    monkeypatch.setattr(store, "settle_many", counting)
    try:
        done, skipped = next(consumer), next(consumer)
        assert isinstance(done, JobMessage) and isinstance(skipped, JobMessage)
        assert done.claim is not None and skipped.claim is not None  # claimed by the fetch
        assert sorted(broker.runtime.held_job_ids() or ()) == sorted([done.message_id, skipped.message_id])

        # One runs: the lifecycle hands the actor its run and records the output it left there;
        # that settle call acknowledged the job, and the consumer's ack makes no call of its own.
        lifecycle.before_process_message(broker, done)
        assert done.run is not None and done.args == (done.run,)
        done.run.output = {"summary": "done"}
        lifecycle.after_process_message(broker, done)
        consumer.ack(done)
        assert calls == [["complete"]]

        # The other was cancelled while it waited in the buffer (long enough to be checked
        # again): skipped, so the lifecycle takes it out of this worker's inflight set.
        store.cancel(skipped.message_id)
        skipped.fetched_at -= 60
        with pytest.raises(SkipMessage):
            lifecycle.before_process_message(broker, skipped)
        lifecycle.after_skip_message(broker, skipped)
        consumer.ack(skipped)
        assert calls == [["complete"], ["ack"]]

        assert store.get(done.message_id).status is JobStatus.COMPLETED
        assert store.redis.zrange(store.keys.inflight(broker.runtime.worker_id), 0, -1) == []
        assert broker.runtime.held_job_ids() == []
    finally:
        consumer.close()


def test_a_job_running_longer_than_the_heartbeat_grace_stays_with_its_worker(
    redis_url: str, fast_settings: Settings, tmp_path: Path
) -> None:
    """Each heartbeat hands Redis the jobs the worker holds; only the others go back in line
    (heartbeat timeout 3 s here, and so the grace)."""
    settings = replace(fast_settings, processor_overrides=OVERRIDES)
    with Client(redis_url, workers=1, settings=settings) as client:
        job = client.create_job("text_notes", plan(counter=str(tmp_path / "runs"), sleep=4.5, steps=9))
        record = job.wait(timeout=30)
        kinds = [e.kind for e in client.watch([job.id], since="0-0", timeout=1)]
    assert record.status is JobStatus.COMPLETED and record.output_data["attempt"] == 1  # type: ignore[index]
    assert "requeued" not in kinds


def test_a_stopping_consumer_puts_back_the_jobs_no_thread_started(
    store: Store, fast_settings: Settings
) -> None:
    """dramatiq hands the consumer the messages left in its work queue at shutdown; those and
    the ones still in the consumer's own buffer go back in line at once."""
    store.create_jobs([JobSpec(job_type=JobType.TEXT_NOTES, input_data=plan(), user_id="u") for _ in "abc"])
    broker = build_broker(store, fast_settings)
    consumer = broker.consume(LOGICAL_QUEUE, prefetch=4, timeout=100)
    try:
        delivered = next(consumer)  # the fetch claimed two (one per slot); one is still buffered
        assert delivered is not None and len(broker.runtime.held_job_ids() or ()) == 2
        consumer.requeue([delivered])
        assert store.count(status="queued") == 3 and store.count(status="processing") == 0
        assert store.redis.zrange(store.keys.inflight(broker.runtime.worker_id), 0, -1) == []
        assert broker.runtime.held_job_ids() == []
    finally:
        consumer.close()
