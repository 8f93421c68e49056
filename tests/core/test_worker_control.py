"""Operator controls through Redis: pause and resume tiers, drain and restart workers, for
``dramatiq eduscribe_sdk.actors`` subprocesses and in-process workers alike."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eduscribe_sdk import (
    Client,
    InvalidInputError,
    JobSpec,
    JobStatus,
    JobType,
    Priority,
    Settings,
    Tier,
    WorkerInfo,
    _control,
)
from eduscribe_sdk._store import Store
from tests.core.conftest import Spawn
from tests.core.jobs import OVERRIDES, plan


@pytest.fixture
def ops(redis_url: str, fast_settings: Settings) -> Iterator[Client]:
    """An operator's client with no workers, whose user may send every priority. Subprocess
    workers beat every 2 s (the default), so "live" here allows a generous 10 s."""
    settings = replace(fast_settings, heartbeat_timeout_s=10.0)
    with Client(redis_url, user_id="ops", workers=0, settings=settings) as c:
        c.set_user_tier("ops", Tier.ENTERPRISE)
        yield c


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def status(client: Client, job_id: str) -> JobStatus:
    return client.get_job(job_id).status


def only_worker(client: Client) -> WorkerInfo:
    (info,) = client.worker_info()
    return info


def stays_queued(client: Client, job_id: str, seconds: float) -> None:
    """The job is still queued after ``seconds`` of a worker's fetching (several per second)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert status(client, job_id) is JobStatus.QUEUED
        time.sleep(0.1)


def test_a_paused_tier_stays_queued_while_the_others_run_until_resumed(ops: Client, spawn: Spawn) -> None:
    ops.pause("free")  # before the worker starts: a new worker obeys it too
    assert ops.paused_tiers() == frozenset({Priority.LOW})
    spawn(threads=2)
    low = ops.create_job("text_notes", plan(), priority="low")
    others = [ops.create_job("text_notes", plan(), priority=p) for p in ("urgent", "high", "normal")]
    assert all(r.status is JobStatus.COMPLETED for r in ops.wait_all([j.id for j in others], timeout=60))
    stays_queued(ops, low.id, 1.5)
    assert ops.get_job(low.id).queue_position == 0  # first in line, and still in its place
    ops.resume(Tier.FREE)
    assert ops.paused_tiers() == frozenset()
    assert ops.wait(low.id, timeout=30).status is JobStatus.COMPLETED


def test_pausing_every_tier_lets_the_running_job_finish_and_fetches_nothing(
    ops: Client, spawn: Spawn, tmp_path: Path
) -> None:
    spawn(threads=2)
    running = ops.create_job("text_notes", plan(sleep=1.5, steps=3))
    wait_for(lambda: status(ops, running.id) is JobStatus.PROCESSING, 30, "the first job to start")
    ops.pause()
    assert ops.paused_tiers() == frozenset(Priority)
    waiting = [ops.create_job("text_notes", plan(), priority=p) for p in ("urgent", "low")]
    assert ops.wait(running.id, timeout=30).status is JobStatus.COMPLETED
    for job in waiting:
        stays_queued(ops, job.id, 0.5)
    ops.resume()
    assert all(r.status is JobStatus.COMPLETED for r in ops.wait_all([j.id for j in waiting], timeout=30))


def test_a_drained_worker_finishes_its_job_takes_nothing_new_until_resume(ops: Client, spawn: Spawn) -> None:
    spawn(threads=1)
    running = ops.create_job("text_notes", plan(sleep=3, steps=6))
    wait_for(lambda: status(ops, running.id) is JobStatus.PROCESSING, 30, "the job to start")
    assert ops.drain() == 1
    info = only_worker(ops)
    assert info.state == "draining" and info.jobs_in_flight == (running.id,)
    later = ops.create_job("text_notes", plan())
    assert ops.wait(running.id, timeout=30).status is JobStatus.COMPLETED
    wait_for(lambda: only_worker(ops).state == "drained", 10, "the worker to be drained")
    stays_queued(ops, later.id, 2.5)  # over a heartbeat: beats do not end the drain
    assert only_worker(ops).state == "drained"
    ops.resume()
    assert ops.wait(later.id, timeout=30).status is JobStatus.COMPLETED
    assert only_worker(ops).state == "running"


def test_a_restarted_worker_process_finishes_its_job_then_exits_cleanly(
    ops: Client, spawn: Spawn, store: Store
) -> None:
    worker = spawn(threads=1)
    job = ops.create_job("text_notes", plan(sleep=3, steps=6))
    wait_for(lambda: status(ops, job.id) is JobStatus.PROCESSING, 30, "the job to start")
    info = only_worker(ops)
    assert worker.owns(info.id) and info.pid is not None and info.slots == 1
    assert ops.restart_workers(info.id) == 1
    assert only_worker(ops).state == "restarting"
    later = ops.create_job("text_notes", plan())
    assert worker.process.wait(timeout=30) == 0  # dramatiq's main process exits with it
    assert status(ops, later.id) is JobStatus.QUEUED  # left for the next worker
    record = ops.get_job(job.id)
    assert record.status is JobStatus.COMPLETED and record.output_data is not None
    assert record.output_data["attempt"] == 1 and record.retry_count == 0
    kinds = [e.kind for e in ops.watch([job.id], since="0-0", timeout=1)]
    assert "requeued" not in kinds
    assert ops.worker_info() == [] and len(ops.workers()) == 0  # it said goodbye
    assert store.controls() == {}  # and its restart request went with it


def test_an_in_process_worker_restarts_with_a_new_id(redis_url: str, fast_settings: Settings) -> None:
    settings = replace(fast_settings, processor_overrides=OVERRIDES)
    with Client(redis_url, user_id="tester", workers=1, settings=settings) as client:
        first = client.worker_id
        assert first is not None
        wait_for(lambda: [w.id for w in client.worker_info()] == [first], 10, "the worker to register")
        done = client.create_job("text_notes", plan())
        assert client.wait(done.id, timeout=30).status is JobStatus.COMPLETED
        assert client.restart_workers() == 1
        wait_for(lambda: client.worker_id != first, 10, "the worker to start again")
        second = client.worker_id
        wait_for(lambda: [w.id for w in client.worker_info()] == [second], 10, "only the new worker")
        assert only_worker(client).state == "running"
        job = client.create_job("text_notes", plan())
        record = client.wait(job.id, timeout=30)
        assert record.status is JobStatus.COMPLETED and record.worker_id == second


def test_worker_info_describes_each_live_worker(redis_url: str, fast_settings: Settings) -> None:
    settings = replace(fast_settings, processor_overrides=OVERRIDES)
    with Client(redis_url, user_id="tester", workers=2, settings=settings) as client:
        job = client.create_job("text_notes", plan(sleep=1.5, steps=3))
        wait_for(lambda: status(client, job.id) is JobStatus.PROCESSING, 30, "the job to start")
        info = only_worker(client)
        assert info.id == client.worker_id and info.slots == 2 and info.host and info.pid
        assert info.jobs_in_flight == (job.id,) and info.state == "running"
        assert info.last_heartbeat.tzinfo is UTC and info.started_at is not None
        assert info.last_heartbeat <= datetime.now(UTC)
        with pytest.raises(AttributeError):
            info.state = "drained"  # type: ignore[misc]  # frozen


def test_controls_name_what_is_wrong_with_their_arguments(ops: Client) -> None:
    for bad in ("gold", "", 3, Priority):
        with pytest.raises(InvalidInputError) as caught:
            ops.pause(bad)  # type: ignore[arg-type]
        assert caught.value.field == "tier"
    with pytest.raises(InvalidInputError) as caught:
        ops.resume("FREE")
    assert caught.value.field == "tier"
    for unknown in ("nobody/123456", 7, ""):
        with pytest.raises(InvalidInputError) as caught:
            ops.drain(unknown)  # type: ignore[arg-type]
        assert caught.value.field == "worker_id"
        with pytest.raises(InvalidInputError):
            ops.restart_workers(unknown)  # type: ignore[arg-type]
    assert ops.drain() == 0 and ops.restart_workers() == 0  # no live worker: none asked
    ops.pause(Tier.ENTERPRISE)
    ops.pause("high")
    assert ops.paused_tiers() == {Priority.URGENT, Priority.HIGH}
    ops.resume(Priority.URGENT)
    assert ops.paused_tiers() == {Priority.HIGH}


def test_no_fetch_that_starts_after_drain_returns_takes_a_job(store: Store) -> None:
    """drain and fetch are each one step in Redis: whichever runs second sees the other."""
    store.create_jobs(
        [JobSpec(job_type=JobType.TEXT_NOTES, input_data={"content": "x"}, user_id="u") for _ in range(3000)]
    )
    stop = threading.Event()
    fetches: list[tuple[float, int]] = []  # (started at, jobs taken) per fetch of each worker
    fetched_by: set[str] = set()

    def fetch(worker: str) -> None:
        while not stop.is_set():
            began = time.monotonic()
            fetches.append((began, len(store.fetch(worker, 1))))
            fetched_by.add(worker)  # its fetch registered it: drain() counts it

    threads = [threading.Thread(target=fetch, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: len(fetches) > 30 and len(fetched_by) == 3, 10, "every worker to fetch")
        assert _control.ask_workers(store, "drain", None) == 3
        drained_at = time.monotonic()
        wait_for(lambda: sum(1 for began, _ in fetches if began > drained_at) > 30, 10, "later fetches")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert any(taken for began, taken in fetches if began < drained_at)
    assert not [taken for began, taken in fetches if began > drained_at and taken]
    _control.resume(store, None)
    assert store.fetch("w0", 1)


def test_resume_wakes_idle_consumers_and_a_drain_never_undoes_a_restart(store: Store) -> None:
    pubsub = store.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(store.keys.wakeup)
    try:
        assert pubsub.get_message(timeout=5) is None  # the subscription's confirmation
        _control.pause(store, None)
        _control.resume(store, "low")
        message = pubsub.get_message(timeout=5)
        assert message is not None and message["channel"] == store.keys.wakeup
    finally:
        pubsub.close()
    for worker in ("w1", "w2"):
        store.heartbeat(worker, host="h", pid=1, threads=1, started_at=time.time())
    assert _control.ask_workers(store, "restart", "w1") == 1
    assert _control.ask_workers(store, "drain", None) == 2
    assert store.controls() == {
        "worker:w1": "restart",
        "worker:w2": "drain",
        **_paused("urgent", "high", "normal"),
    }
    _control.resume(store, "urgent")  # one tier: the drains stay
    assert store.controls() == {"worker:w1": "restart", "worker:w2": "drain", **_paused("high", "normal")}
    _control.resume(store, None)  # everything: tiers and drains, not a restart asked
    assert store.controls() == {"worker:w1": "restart"}
    store.leave("w1")  # a worker's requests go with it
    assert store.controls() == {}


def _paused(*priorities: str) -> dict[str, str]:
    return {f"paused:{p}": "1" for p in priorities}


def test_only_live_workers_are_listed_and_asked(store: Store) -> None:
    for worker in ("alive", "silent"):
        store.heartbeat(worker, host="h", pid=1, threads=3, started_at=time.time())
    # Its last heartbeat a minute ago (the maintenance pass has not removed it yet).
    store.redis.zadd(store.keys.workers, {"silent": int((time.time() - 60) * 1000)})
    assert [(w.id, w.slots, w.state) for w in _control.worker_info(store)] == [("alive", 3, "running")]
    with pytest.raises(InvalidInputError, match="no live worker 'silent'"):
        _control.ask_workers(store, "drain", "silent")
    assert _control.ask_workers(store, "restart", None) == 1
    assert store.controls() == {"worker:alive": "restart"}
