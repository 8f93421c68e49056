"""Duplicate delivery: a job handed out twice runs its processor once and stores one result.

Duplicates are produced the ways they happen in production, on real Redis and real workers:
a stalled worker's fetched job requeued by the maintenance pass, two workers racing to claim
the same job, a worker process frozen mid-job (SIGSTOP) and resumed, and a worker restarted
while it holds jobs.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from dramatiq.message import Message
from dramatiq.middleware import SkipMessage

from eduscribe_sdk import Client, JobStatus, Settings
from eduscribe_sdk._store import Store, connect
from eduscribe_sdk._worker import LOGICAL_QUEUE, JobLifecycle, JobMessage, PriorityBroker, WorkerRuntime
from tests.core.jobs import OVERRIDES, plan
from tests.reliability.conftest import WorkerProcess, events_by_job, wait_for


def runs(counter: Path) -> int:
    return int(counter.read_text()) if counter.exists() else 0


def run_ended_at(markers: Path, run: int) -> float | None:
    """When the scripted processor's run ``run`` ended (its marker), if it ended by itself."""
    ended = markers / f"run-{run}.ended"
    return float(ended.read_text().split()[1]) if ended.exists() else None


def run_over(markers: Path, run: int) -> bool:
    """Run ``run`` ended, or the process it ran in is gone (killed)."""
    if run_ended_at(markers, run) is not None:
        return True
    pid = int((markers / f"run-{run}.started").read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def scripted_settings(fast_settings: Settings) -> Settings:
    return replace(fast_settings, processor_overrides=OVERRIDES)


@pytest.mark.parametrize("claimed", [True, False], ids=["fetch-claimed", "unclaimed"])
def test_job_of_a_stalled_worker_requeued_then_delivered_to_it_again_runs_once(
    bare_client: Client, redis_url: str, scripted_settings: Settings, tmp_path: Path, claimed: bool
) -> None:
    counter = tmp_path / "runs"
    job = bare_client.create_job("text_notes", plan(counter=str(counter), sleep=0.2))

    # Given: worker A fetched the job into its prefetch buffer (claiming it, as its consumer
    # does, or not), then stalled (no heartbeats)
    stalled = WorkerRuntime(bare_client._store, scripted_settings)
    store = bare_client._store
    if claimed:
        (claim,) = store.fetch_and_claim(stalled.worker_id, 1)
        assert claim.id == job.id
        # It sat in A's buffer for longer than half the heartbeat timeout.
        message = JobMessage.claimed(claim, fetched_at=time.monotonic() - 60)
    else:
        assert [row[0] for row in store.fetch(stalled.worker_id, 1)] == [job.id]
        message = JobMessage(
            Message(queue_name=LOGICAL_QUEUE, actor_name="text_notes", args=(job.id,), kwargs={}, options={}),
            claim=None,
            fetched_at=time.monotonic(),
        )

    # When: worker B's maintenance pass gives the job to B, which runs it; then A wakes up
    # and its worker thread receives the message it fetched long ago
    with Client(redis_url, user_id="tester", workers=1, settings=scripted_settings) as b:
        record = b.wait(job.id, timeout=30)
    lifecycle = JobLifecycle(stalled)
    with pytest.raises(SkipMessage):
        lifecycle.before_process_message(PriorityBroker(stalled, middleware=[lifecycle]), message)

    # Then: the processor ran once, on B; one completion; nothing left in A's inflight set
    assert runs(counter) == 1 and message.run is None
    assert record.worker_id != stalled.worker_id and record.output_data["attempt"] == 1  # type: ignore[index]
    kinds = events_by_job(bare_client._store)[job.id]
    assert kinds.count("started") == 1 + claimed and kinds.count("completed") == 1
    assert bare_client._store.redis.zcard(bare_client._store.keys.inflight(stalled.worker_id)) == 0


def test_two_workers_racing_to_claim_the_same_jobs_one_wins_each(
    bare_client: Client, redis_url: str, scripted_settings: Settings
) -> None:
    # Given: 200 queued jobs and two live workers, each with its own connection
    ids = bare_client.create_jobs(
        [bare_client.prepare_job("text_notes", plan(), id=f"race{i:03d}") for i in range(200)]
    )
    stores = [Store(connect(redis_url, settings=scripted_settings), settings=scripted_settings) for _ in "ab"]
    for name, store in zip("ab", stores, strict=True):
        store.heartbeat(name, host="h", pid=1, threads=1, started_at=time.time())
    claims: dict[str, list[tuple[str, int]]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def claim_all(name: str, store: Store) -> None:
        barrier.wait()
        for job_id in ids:
            started = store.start(job_id, name)
            if started is not None:
                claims[name].append((job_id, started.attempt))

    # When: both call start (start.lua) on every job at the same time
    threads = [threading.Thread(target=claim_all, args=(n, s)) for n, s in zip("ab", stores, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # Then: every job was claimed exactly once; only the winner can store a result
    won = {job_id: name for name in claims for job_id, _ in claims[name]}
    assert sorted(won) == sorted(ids)
    assert len(claims["a"]) + len(claims["b"]) == len(ids)
    for name, store in zip("ab", stores, strict=True):
        for job_id in ids:
            assert store.complete(job_id, name, 1, {"by": name}) is (won[job_id] == name)
    records = bare_client.get_jobs(ids)
    assert all(r is not None and r.output_data == {"by": won[r.id]} for r in records)
    assert bare_client.stats().totals["completed_jobs"] == len(ids)


def test_worker_frozen_mid_job_and_resumed_does_not_store_a_second_result(
    bare_client: Client, spawn_worker: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    counter, markers = tmp_path / "runs", tmp_path / "markers"
    # Given: worker A runs a job, and worker B is idle
    a = spawn_worker(threads=1, name="a")
    job = bare_client.create_job(
        "text_notes", plan(counter=str(counter), sleep=4, steps=40, markers=str(markers))
    )

    def a_is_running_the_processor() -> bool:
        # Progress comes after the processor counted its attempt; freezing A before that
        # would let B's run count itself as the first
        record = job.refresh().record
        return a.owns(record.worker_id) and record.progress > 0

    wait_for(a_is_running_the_processor, 30, "worker a to start the job")
    b = spawn_worker(threads=1, name="b")

    # When: A freezes (SIGSTOP) past the heartbeat timeout, so B takes the job over; then A
    # thaws and finishes its own, now stale, attempt
    os.killpg(a.process.pid, signal.SIGSTOP)
    try:
        wait_for(lambda: b.owns(job.refresh().record.worker_id), 40, "worker b to take the job over")
    finally:
        os.killpg(a.process.pid, signal.SIGCONT)
    record = bare_client.wait(job.id, timeout=60)
    wait_for(lambda: run_over(markers, 1), 30, "worker a's stale attempt to end")

    # Then: A's run did not go on once B had the job (it stops at its next progress report,
    # or is killed; a run that carried on would overlap B's by seconds)...
    a_ended = run_ended_at(markers, 1) or time.time()
    b_started = float((markers / "run-2.started").read_text().split()[1])
    assert a_ended - b_started < 2.0, "worker a's stale attempt kept running"
    assert (markers / "run-2.ended").read_text().split()[0] == "completed"
    # ... one completion, from B's attempt; A's late result was dropped, A still lives
    assert b.owns(record.worker_id) and record.output_data["attempt"] == 2  # type: ignore[index]
    kinds = events_by_job(bare_client._store)[job.id]
    assert kinds.count("completed") == 1 and kinds.count("requeued") == 1
    assert bare_client.get_job(job.id).output_data == record.output_data
    assert a.alive
    assert bare_client.stats().totals["completed_jobs"] == 1


def test_worker_restarted_while_holding_jobs_redelivers_each_once(
    bare_client: Client, spawn_worker: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    counters = tmp_path / "counters"
    counters.mkdir()
    # Given: a worker with two slots busy, and more work queued behind
    first = spawn_worker(threads=2, name="first")
    jobs = [
        bare_client.create_job("text_notes", plan(counter=str(counters / str(i)), sleep=1.5, steps=15))
        for i in range(6)
    ]
    wait_for(
        lambda: bare_client._store.count(status="processing") == 2, 30, "two jobs to be running on first"
    )

    # When: it is stopped (SIGTERM: dramatiq's graceful shutdown) and a new worker starts
    first.stop()
    spawn_worker(threads=2, name="second")
    records = bare_client.wait_all([j.id for j in jobs], timeout=60)

    # Then: every job completed once; an interrupted run never stored a result
    for job, record in zip(jobs, records, strict=True):
        assert record.status is JobStatus.COMPLETED
        kinds = events_by_job(bare_client._store)[job.id]
        assert kinds.count("completed") == 1
        assert record.output_data["attempt"] == runs(counters / str(jobs.index(job)))  # type: ignore[index]
    assert bare_client.stats().totals["completed_jobs"] == len(jobs)
