"""Sentinel failover: ``redis+sentinel://`` URLs for the SDK, the workers and the CLI.

One primary, one replica and three Sentinels on loopback (``sentinels.py``), shared by the
tests of this module; the failover test kills the primary, so it comes last.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from batch.cli import main as batch_main
from eduscribe_sdk import Client, JobStatus, Settings
from eduscribe_sdk._models import JobRecord
from eduscribe_sdk.errors import RedisUnavailableError
from tests.reliability.conftest import wait_for
from tests.reliability.outage_jobs import PROCESSORS, logged_plan, runs_per_job
from tests.reliability.sentinels import SentinelSetup
from tests.workers import WorkerProcess


@pytest.fixture(scope="module")
def sentinels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelSetup]:
    setup = SentinelSetup(tmp_path_factory.mktemp("sentinel"))
    yield setup
    setup.stop()


@pytest.fixture
def failover_settings(fast_settings: Settings) -> Settings:
    return replace(fast_settings, heartbeat_timeout_s=10.0, heartbeat_interval_s=2.0, socket_timeout_s=2.0)


def test_a_read_only_replica_raises_redis_unavailable_for_writes(
    sentinels: SentinelSetup, failover_settings: Settings
) -> None:
    # Given: a client pointed straight at the replica (a demoted primary looks the same)
    with Client(sentinels.replica.url, user_id="tester", workers=0, settings=failover_settings) as client:
        # Then: a write is "Redis unavailable, try later", not bad input or a raw redis error
        with pytest.raises(RedisUnavailableError, match="read only replica"):
            client.create_job("text_notes", {"content": "Stacks are last in, first out."})
        with pytest.raises(RedisUnavailableError, match="read only replica"):
            client.set_user_tier("tester", "basic")


def test_the_batch_cli_runs_a_csv_through_a_sentinel_url(sentinels: SentinelSetup, tmp_path: Path) -> None:
    csv_path = tmp_path / "course.csv"
    csv_path.write_text("id,type,source,title,depends_on\nr1,text,Stacks are last in first out.,Stacks,\n")
    result = CliRunner().invoke(
        batch_main,
        [
            "run",
            str(csv_path),
            "--redis",
            sentinels.url,
            "--workers",
            "1",
            "--user",
            "tester",
            "--no-progress",
        ],
        catch_exceptions=False,
        env={"EDUSCRIBE_HOME": str(tmp_path / "home")},
    )
    # Exit code 0: every row completed (the in-process worker reached the primary through them)
    assert result.exit_code == 0, result.output


def _records(client: Client, ids: list[str]) -> list[JobRecord | None] | None:
    try:
        return client.get_jobs(ids)
    except RedisUnavailableError:
        return None  # failing over


def test_killing_the_primary_mid_run_completes_every_acknowledged_job_exactly_once(
    sentinels: SentinelSetup, failover_settings: Settings, tmp_path: Path
) -> None:
    runs = tmp_path / "runs.log"
    workers = [
        WorkerProcess(
            sentinels.url,
            tmp_path / "home",
            threads=4,
            name=f"w{i}",
            env={"EDUSCRIBE_PROCESSORS": PROCESSORS},
        )
        for i in range(2)
    ]
    try:
        with Client(sentinels.url, user_id="tester", workers=0, settings=failover_settings) as client:
            # Given: 160 jobs on two worker processes that know only the Sentinels' addresses
            ids = client.create_jobs(
                [
                    client.prepare_job("text_notes", logged_plan(runs, sleep=0.5, steps=5), id=f"a-{i:03d}")
                    for i in range(160)
                ]
            )
            wait_for(lambda: client._store.count(status="completed") >= 30, 60, "jobs to complete")
            time.sleep(1.1)  # replicated long ago: the acknowledgement counts from here
            late = [
                client.create_job("text_notes", logged_plan(runs, sleep=0.5, steps=5)).id for _ in range(10)
            ]

            # When: the primary dies without a goodbye, mid-run
            sentinels.primary.process.kill()  # type: ignore[union-attr]
            killed = time.monotonic()
            wait_for(lambda: sentinels.primary_port() == sentinels.replica.port, 30, "the failover")
            failover_s = time.monotonic() - killed

            # Then: every job acknowledged before the kill completes, each ran exactly once,
            # and nothing that reached the new primary is stuck
            def finished() -> bool:
                records = _records(client, ids)
                return records is not None and all(
                    r is not None and r.status is JobStatus.COMPLETED for r in records
                )

            wait_for(finished, 60, "every acknowledged job to complete", every=0.5)
            counts = runs_per_job(runs)
            assert {job: counts[job] for job in ids if counts[job] != 1} == {}, "run twice or never"
            wait_for(
                lambda: client._store.count(status="processing") + client._store.count(status="queued") == 0,
                30,
                "the late jobs to finish",
            )
            survivors = [r for r in client.get_jobs(late) if r is not None]
            assert all(r.status is JobStatus.COMPLETED for r in survivors)
            assert all(w.alive for w in workers)
            print(f"failover took {failover_s:.1f} s; {len(survivors)}/10 late jobs survived")
    finally:
        for worker in workers:
            worker.stop()
