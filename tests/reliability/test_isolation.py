"""Hard stops with real ``dramatiq eduscribe_sdk.actors`` workers on a real server: cancel,
time and memory limits, a retry while the cancelled attempt still runs, SIGTERM to the group.

The scripted job ``block`` sleeps without reporting progress: a call that never returns to
Python's progress callback (a C library, a hung socket)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from eduscribe_sdk import Client, JobFailed, JobStatus
from tests.core.jobs import plan
from tests.reliability.conftest import wait_for
from tests.workers import WorkerProcess

Spawn = Callable[..., WorkerProcess]


def _pid_in(path: Path) -> int | None:
    text = path.read_text() if path.exists() else ""
    return int(text) if text.strip() else None


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for its parent counts as stopped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in {"Z", "X"}


def _started(client: Client, job_id: str, pid_file: Path) -> None:
    wait_for(lambda: _pid_in(pid_file) is not None, 30, "the processor to start")
    assert client.get_job(job_id).status is JobStatus.PROCESSING


def test_cancel_with_one_slot_stops_a_job_that_never_reports_progress(
    bare_client: Client, spawn_worker: Spawn, tmp_path: Path
) -> None:
    # Given one worker with one slot, running a job that blocks and never reports progress
    spawn_worker(threads=1)
    pid_file = tmp_path / "pid"
    job = bare_client.create_job("text_notes", plan(block=60, pid_file=str(pid_file)))
    _started(bare_client, job.id, pid_file)
    processor_pid = _pid_in(pid_file)
    assert processor_pid is not None and _running(processor_pid)
    follow = bare_client.create_job("text_notes", plan())
    # When it is cancelled
    job.cancel()
    cancelled_at = time.monotonic()
    # Then the slot is free within 2 s: the next job runs on it
    wait_for(lambda: bare_client.get_job(follow.id).status is JobStatus.COMPLETED, 10, "the next job")
    assert time.monotonic() - cancelled_at < 2.0 + 0.5  # 0.5 s: the poll of this test itself
    # And the processor really stopped
    wait_for(lambda: not _running(processor_pid), 2, f"the cancelled processor (pid {processor_pid}) to stop")
    record = bare_client.get_job(job.id)
    assert record.status is JobStatus.CANCELLED and record.output_data is None


def test_time_limit_per_job_type_is_enforced_within_a_second(
    bare_client: Client, spawn_worker: Spawn, tmp_path: Path
) -> None:
    spawn_worker(threads=1, env={"EDUSCRIBE_TIME_LIMITS": "text_notes=2"})
    pid_file = tmp_path / "pid"
    job = bare_client.create_job("text_notes", plan(block=60, pid_file=str(pid_file)), max_retries=3)
    with pytest.raises(JobFailed, match="time limit of 2 s exceeded") as info:
        job.wait(timeout=30)
    record = info.value.record
    assert record.error_details and record.error_details["type"] == "JobTimeLimitExceeded"
    assert record.retry_count == 0  # a time limit is permanent
    assert record.started_at and record.completed_at
    overrun = (record.completed_at - record.started_at).total_seconds() - 2
    assert 0 <= overrun < 1.0
    pid = _pid_in(pid_file)
    assert pid is not None
    wait_for(lambda: not _running(pid), 2, "the timed-out processor to stop")


def test_memory_limit_fails_the_job_with_a_named_error_and_the_worker_carries_on(
    bare_client: Client, spawn_worker: Spawn
) -> None:
    spawn_worker(threads=1, env={"EDUSCRIBE_MAX_JOB_MEMORY_MB": "1024"})
    hog = bare_client.create_job("text_notes", plan(allocate_mb=3000), max_retries=3)
    with pytest.raises(JobFailed, match="needed more than 1024 MB") as info:
        hog.wait(timeout=60)
    details = info.value.record.error_details
    assert details and details["type"] == "JobMemoryLimitExceeded"
    assert info.value.record.retry_count == 0
    # The worker survives, and so does a job within the limit.
    fine = bare_client.create_job("text_notes", plan(allocate_mb=50))
    assert fine.wait(timeout=60).status is JobStatus.COMPLETED


def test_retry_right_after_cancel_never_runs_two_attempts_at_once(
    bare_client: Client, spawn_worker: Spawn, tmp_path: Path
) -> None:
    # Two free slots, so the retried job could start at once next to the cancelled attempt;
    # each attempt holds an exclusive lock while it runs, and fails if it cannot get it.
    spawn_worker(threads=2)
    pid_file = tmp_path / "pid"
    instructions = plan(
        counter=str(tmp_path / "n"), lock=str(tmp_path / "lock"), first_block=60, pid_file=str(pid_file)
    )
    job = bare_client.create_job("text_notes", instructions, max_retries=0)
    _started(bare_client, job.id, pid_file)
    job.cancel()
    job.retry()
    record = job.wait(timeout=30)
    assert record.status is JobStatus.COMPLETED and record.output_data is not None
    assert record.output_data["attempt"] == 2


def test_sigterm_to_the_process_group_hands_running_jobs_back_at_once(
    bare_client: Client, spawn_worker: Spawn, tmp_path: Path
) -> None:
    # Given a job running on worker A, and worker B idle
    first = spawn_worker(threads=1, name="first")
    pid_file = tmp_path / "pid"
    job = bare_client.create_job(
        "text_notes", plan(counter=str(tmp_path / "n"), first_block=60, pid_file=str(pid_file))
    )
    _started(bare_client, job.id, pid_file)
    assert first.owns(bare_client.get_job(job.id).worker_id)
    second = spawn_worker(threads=1, name="second")
    wait_for(lambda: len(bare_client.workers()) == 2, 30, "the second worker to register")
    # When systemd stops A: SIGTERM to its whole process group (dramatiq's parent and child)
    os.killpg(first.process.pid, signal.SIGTERM)
    sent_at = time.monotonic()
    # Then B runs the job well before A's heartbeat would time out (10 s)
    record = job.wait(timeout=30)
    assert second.owns(record.worker_id)
    assert time.monotonic() - sent_at < 5
    assert record.output_data is not None and record.output_data["attempt"] == 2
    first.process.wait(timeout=20)


def test_a_worker_killed_with_sigkill_takes_its_processor_with_it(
    bare_client: Client, spawn_worker: Spawn, tmp_path: Path
) -> None:
    # The processor runs in a process group of its own (so that a kill reaches what it
    # started); it must still not outlive a worker that dies without a goodbye.
    worker = spawn_worker(threads=1)
    pid_file = tmp_path / "pid"
    job = bare_client.create_job("text_notes", plan(block=60, pid_file=str(pid_file)))
    _started(bare_client, job.id, pid_file)
    pid = _pid_in(pid_file)
    assert pid is not None and _running(pid)
    worker.kill()
    wait_for(lambda: not _running(pid), 5, f"the orphaned processor (pid {pid}) to stop")


def test_a_processor_process_that_dies_fails_the_attempt_as_crashed_and_is_retried(
    bare_client: Client, spawn_worker: Spawn
) -> None:
    spawn_worker(threads=1)
    job = bare_client.create_job("text_notes", plan(die=True), max_retries=1)
    with pytest.raises(
        JobFailed, match=r"gave up after 1 retries: the processor's process died \(signal SIGKILL\)"
    ) as info:
        job.wait(timeout=60)
    record = info.value.record
    assert record.error_details and record.error_details["type"] == "ProcessorCrashed"
    assert record.retry_count == 1
    assert bare_client.create_job("text_notes", plan()).wait(timeout=30).status is JobStatus.COMPLETED
