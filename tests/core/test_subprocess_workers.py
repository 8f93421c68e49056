"""`dramatiq eduscribe_sdk.actors` as real subprocesses: start, work, SIGKILL, recover."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from eduscribe_sdk import Client, JobStatus, Settings
from tests.core.conftest import Spawn
from tests.core.jobs import plan


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def test_subprocess_workers_process_jobs(bare_client: Client, spawn: Spawn) -> None:
    spawn(threads=2)
    jobs = [bare_client.create_job("text_notes", plan()) for _ in range(10)]
    records = bare_client.wait_all([j.id for j in jobs], timeout=60)
    assert all(r.status is JobStatus.COMPLETED for r in records)
    workers = bare_client.workers()
    assert len(workers) == 1 and workers.loc[0, "threads"] == 2


def test_sigkilled_worker_job_runs_again_on_a_new_worker_within_30s(
    bare_client: Client, spawn: Spawn, tmp_path: Path, fast_settings: Settings
) -> None:
    counter = tmp_path / "attempts"
    first = spawn()
    job = bare_client.create_job("text_notes", plan(counter=str(counter), first_sleep=60, steps=600))
    wait_for(lambda: job.refresh().status is JobStatus.PROCESSING, 30, "the job to start")
    # The processor itself has begun (it counts its attempt first): a claim comes a moment before.
    wait_for(counter.exists, 30, "the processor to start")
    dead_worker = job.record.worker_id
    first.kill()
    killed_at = time.monotonic()
    spawn()
    record = bare_client.wait(job.id, timeout=45)
    recovered_after = time.monotonic() - killed_at
    assert recovered_after <= 30, f"recovery took {recovered_after:.1f} s"
    assert record.status is JobStatus.COMPLETED and record.worker_id != dead_worker
    assert record.output_data and record.output_data["attempt"] == 2
    events = list(bare_client.watch([job.id], since="0-0", timeout=1))
    kinds = [e.kind for e in events]
    assert kinds.count("completed") == 1 and kinds.count("requeued") == 1
    assert bare_client.stats().totals["completed_jobs"] == 1
    assert dead_worker not in set(bare_client.workers()["id"])
