"""Redis outages while jobs run: nothing fails, nothing runs twice, nothing is lost.

A progress report while Redis is down is dropped (the processor never sees the outage);
the outcome of a finished attempt waits for Redis (``Settings.outage_window_s``) instead of
failing or re-running the job. The server runs with ``--appendonly yes --appendfsync
everysec`` and is restarted on the same port and data folder, as a supervisor would.
"""

from __future__ import annotations

import logging
import shutil
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest

from eduscribe_sdk import Client, JobStatus, Settings
from eduscribe_sdk._models import JobType
from eduscribe_sdk._store import Started, Store, connect
from eduscribe_sdk._worker import JobRun
from eduscribe_sdk.testing import free_port
from tests.reliability.conftest import wait_for
from tests.reliability.outage_jobs import PROCESSORS, logged_plan, runs_per_job
from tests.reliability.test_redis_restart import RestartableRedis, aof_redis, restart_settings
from tests.workers import WorkerProcess

__all__ = ["aof_redis", "restart_settings"]  # fixtures shared with test_redis_restart


def _started(job_id: str = "job-1") -> Started:
    return Started(
        id=job_id, attempt=1, job_type=JobType.TEXT_NOTES, input_data={}, title=None, dependencies=[]
    )


class CountingStore(Store):
    """The real store, noting when each progress report was attempted."""

    attempts: list[tuple[float, float]]

    def report_progress(self, job_id: str, attempt: int, percent: int, worker_id: str = "") -> str:
        started = time.monotonic()
        try:
            return super().report_progress(job_id, attempt, percent, worker_id)
        finally:
            self.attempts.append((started, time.monotonic()))


def test_progress_report_while_redis_is_down_does_not_raise(
    fast_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Given: a run whose Redis is gone (nothing listens on its port)
    settings = replace(fast_settings, socket_timeout_s=1.0)
    store = CountingStore(connect(f"redis://127.0.0.1:{free_port()}/0", settings=settings), settings=settings)
    store.attempts = []
    run = JobRun(_started(), store, "w/1", settings)

    # When: the processor keeps reporting progress until four reports were tried on Redis
    deadline = time.monotonic() + 30
    with caplog.at_level(logging.WARNING, logger="eduscribe"):
        percent = 0
        while len(store.attempts) < 4 and time.monotonic() < deadline:
            percent = percent % 98 + 1
            run.progress(percent)

    # Then: no exception reached the processor; the outage was logged once, not per report;
    # the reports in between were dropped without trying, with a doubling pause
    assert len(store.attempts) == 4
    dropped = [r for r in caplog.records if "progress" in r.getMessage()]
    assert len(dropped) == 1, [r.getMessage() for r in caplog.records]
    # The pause between one attempt's end and the next one's start (a refused connection may
    # itself take a while on a busy machine)
    gaps = [b[0] - a[1] for a, b in zip(store.attempts, store.attempts[1:], strict=False)]
    assert gaps[0] >= 0.5
    assert gaps[1] >= 1.8 * gaps[0] and gaps[2] >= 1.8 * gaps[1], gaps


def test_redis_kill9_and_restart_during_500_running_jobs_fails_nothing_runs_nothing_twice(
    aof_redis: RestartableRedis, restart_settings: Settings, tmp_path: Path
) -> None:
    runs = tmp_path / "runs.log"
    workers = [
        WorkerProcess(
            aof_redis.url,
            tmp_path / "home",
            threads=8,
            name=f"w{i}",
            env={"EDUSCRIBE_PROCESSORS": PROCESSORS},
        )
        for i in range(3)
    ]
    try:
        with Client(aof_redis.url, user_id="tester", workers=0, settings=restart_settings) as client:
            # Given: 500 jobs reporting progress five times a second, half of them with no retry
            # to spare (a failure would show), on 24 job slots in three worker processes
            specs = [
                client.prepare_job(
                    "text_notes",
                    logged_plan(runs, sleep=1.0, steps=5),
                    id=f"job-{i:03d}",
                    max_retries=0 if i % 2 else 3,
                )
                for i in range(500)
            ]
            ids = client.create_jobs(specs)
            wait_for(lambda: client._store.count(status="completed") >= 60, 120, "jobs to complete")
            time.sleep(1.2)  # what ran so far is on disk (AOF everysec)

            # When: Redis is killed (no goodbye) with ~24 jobs running, and comes back 2.5 s later
            aof_redis.stop(signal.SIGKILL)
            time.sleep(2.5)
            aof_redis.start()

            # Then: every job completed, each ran exactly once
            records = client.wait_all(ids, timeout=180)
            not_completed = {r.id: r.status.value for r in records if r.status is not JobStatus.COMPLETED}
            assert not_completed == {}
            counts = runs_per_job(runs)
            assert {job: n for job, n in counts.items() if n != 1} == {}, "jobs that ran more than once"
            assert set(counts) == set(ids)
            assert all(r.retry_count == 0 for r in records)
            assert all(w.alive for w in workers)
    finally:
        for worker in workers:
            worker.stop()


# --- writes lost with Redis's last second (a host crash with appendfsync everysec) -----------


def _lose_writes_since(snapshot: Path, aof_redis: RestartableRedis) -> None:
    """Kill Redis and bring it back from ``snapshot``: what a host crash may do."""
    aof_redis.stop(signal.SIGKILL)
    shutil.rmtree(aof_redis.workdir)
    shutil.copytree(snapshot, aof_redis.workdir)
    aof_redis.start()


def test_an_outcome_lost_with_the_last_second_is_recorded_again_not_run_again(
    aof_redis: RestartableRedis, restart_settings: Settings, tmp_path: Path
) -> None:
    runs = tmp_path / "runs.log"
    settings = replace(restart_settings, processor_overrides={"text_notes": PROCESSORS.split("=")[1]})
    with Client(aof_redis.url, user_id="tester", workers=1, settings=settings) as client:
        # Given: a job that started (on disk) and then completed (not on disk yet)
        job = client.create_job("text_notes", logged_plan(runs, sleep=2.5, steps=1))
        wait_for(lambda: job.refresh().status is JobStatus.PROCESSING, 30, "the job to start")
        time.sleep(1.2)  # the claim is on disk (AOF everysec)
        snapshot = tmp_path / "aof-snapshot"
        shutil.copytree(aof_redis.workdir, snapshot)
        assert client.wait(job.id, timeout=30).status is JobStatus.COMPLETED

        # When: Redis comes back without the completion
        _lose_writes_since(snapshot, aof_redis)
        assert client.get_job(job.id).status is JobStatus.PROCESSING

        # Then: the worker records its outcome again; the job does not run a second time
        record = client.wait(job.id, timeout=30)
        assert record.status is JobStatus.COMPLETED and record.output_data
        assert runs_per_job(runs) == {job.id: 1}


def test_a_claim_and_outcome_lost_with_the_last_second_are_taken_back_not_run_again(
    aof_redis: RestartableRedis, restart_settings: Settings, tmp_path: Path
) -> None:
    runs = tmp_path / "runs.log"
    settings = replace(restart_settings, processor_overrides={"text_notes": PROCESSORS.split("=")[1]})
    with Client(aof_redis.url, user_id="tester", workers=0, settings=settings) as client:
        # Given: a queued job (on disk) that a worker then claimed and completed (not on disk)
        job = client.create_job("text_notes", logged_plan(runs, sleep=0.5, steps=1))
        time.sleep(1.2)  # the creation is on disk (AOF everysec)
        snapshot = tmp_path / "aof-snapshot"
        shutil.copytree(aof_redis.workdir, snapshot)
        with Client(aof_redis.url, user_id="tester", workers=1, settings=settings) as worker:
            assert client.wait(job.id, timeout=30).status is JobStatus.COMPLETED

            # When: Redis comes back with the job queued again, as if it never ran
            _lose_writes_since(snapshot, aof_redis)

            # Then: the worker takes it back and records its outcome; it does not run again
            record = client.wait(job.id, timeout=30)
            assert record.status is JobStatus.COMPLETED and record.worker_id == worker.worker_id
            assert runs_per_job(runs) == {job.id: 1}


def test_an_outcome_that_waited_past_the_outage_window_is_recorded_when_redis_is_back(
    aof_redis: RestartableRedis, restart_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runs = tmp_path / "runs.log"
    settings = replace(
        restart_settings, outage_window_s=1.0, processor_overrides={"text_notes": PROCESSORS.split("=")[1]}
    )
    with Client(aof_redis.url, user_id="tester", workers=1, settings=settings) as client:
        # Given: a running job, and Redis gone for longer than the outage window
        job = client.create_job("text_notes", logged_plan(runs, sleep=1.5, steps=1))
        wait_for(lambda: job.refresh().status is JobStatus.PROCESSING, 30, "the job to start")
        time.sleep(1.2)  # the claim is on disk (AOF everysec)
        with caplog.at_level(logging.WARNING, logger="eduscribe"):
            aof_redis.stop(signal.SIGKILL)
            wait_for(
                lambda: any("stayed unavailable" in r.getMessage() for r in caplog.records),
                30,
                "the worker to stop waiting for Redis",
            )

            # When: Redis comes back (the job is still processing there)
            aof_redis.start()

            # Then: the worker records the outcome it kept; the job does not run again
            record = client.wait(job.id, timeout=30)
        assert record.status is JobStatus.COMPLETED
        assert runs_per_job(runs) == {job.id: 1}
