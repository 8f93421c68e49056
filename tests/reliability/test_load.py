"""Load: 100,000 queued jobs keep Redis memory bounded, every read working, and cleanup leak-free.

How long each read takes as the store grows (10,000 to 1,000,000 jobs) is a benchmark figure:
``python3 -m benchmarks.run --only reads``; here the times are only reported (junit properties).
"""

from __future__ import annotations

import contextlib
import time

import pytest

from eduscribe_sdk import Client
from eduscribe_sdk._creation import JobSpec
from eduscribe_sdk._models import JobType
from eduscribe_sdk.errors import InvalidTransitionError

#: Measured ~2.6 KB per queued job with a 100-character input (record, indexes, one event).
MAX_BYTES_PER_JOB = 4096


def used_memory(client: Client) -> int:
    return int(client._store.redis.info("memory")["used_memory"])


def run_load(client: Client, n: int, record_property: object) -> None:
    redis = client._store.redis
    baseline = used_memory(client)

    # Given: n queued jobs in one batch; every 10th depends on the one before it
    specs = [
        JobSpec(
            job_type=JobType.TEXT_NOTES,
            input_data={"content": f"lecture {i} " + "x" * 90, "options": {}},
            user_id=f"user{i % 7}",
            id=f"L{i:06d}",
            batch_id="load",
            depends_on=(f"L{i - 1:06d}",) if i % 10 == 9 else (),
        )
        for i in range(n)
    ]
    started = time.monotonic()
    client._store.create_jobs(specs)
    create_s = time.monotonic() - started

    # Then: memory per job is bounded and reported
    peak = used_memory(client)
    per_job = (peak - baseline) / n
    record_property("create_seconds", round(create_s, 2))
    record_property("bytes_per_job", round(per_job))
    print(f"{n} jobs: created in {create_s:.1f} s, {per_job:.0f} bytes/job, peak {peak / 2**20:.0f} MiB")
    assert per_job < MAX_BYTES_PER_JOB

    # ... and every read works (its time is reported; the targets are benchmark figures)
    for name, read in {
        "stats": client.stats,
        "stats_frame": client.stats_frame,
        "list_jobs": lambda: client.list_jobs(limit=50),
        "jobs_frame": lambda: client.jobs_frame(limit=1000),
        "get_job": lambda: client.get_job(f"L{n // 2:06d}"),
        "workers": client.workers,
    }.items():
        began = time.monotonic()
        answer = read()
        took = time.monotonic() - began
        assert answer is not None, name
        record_property(f"{name}_seconds", round(took, 3))
    totals = client.stats().totals
    assert totals["total_jobs"] == n
    assert totals["queued_jobs"] + client._store.count(status="waiting") == n

    # When: every job is finished (cancelled; dependents are skipped with their dependency)
    # and cleanup runs
    for spec in specs:
        # A dependent may already be skipped along with the job it depends on.
        with contextlib.suppress(InvalidTransitionError):
            client.cancel(spec.id)
    began = time.monotonic()
    removed = client.cleanup(older_than_days=0)
    record_property("cleanup_seconds", round(time.monotonic() - began, 2))

    # Then: every job and every index entry it had is gone (SCAN), counters are back to zero
    assert removed == n
    left = sorted(client._store.all_keys())
    prefix = client._store.keys.prefix
    assert [k for k in left if k.startswith((f"{prefix}:job:", f"{prefix}:index:", f"{prefix}:queue:"))] == []
    assert set(left) <= {f"{prefix}:{k}" for k in ("events", "stats:counts", "stats:sums")}, left
    assert {v for v in redis.hvals(client._store.keys.counts)} <= {"0"}
    assert client.stats().totals["total_jobs"] == 0
    # ... and memory is back near the baseline, apart from the capped event stream
    events = int(redis.memory_usage(client._store.keys.events) or 0)
    leftover = used_memory(client) - baseline - events
    record_property("leftover_bytes", leftover)
    assert leftover < 8 * 2**20, f"{leftover / 2**20:.1f} MiB left after cleanup"


def test_load_100k_queued_jobs_bounded_memory_every_read_clean_cleanup(
    bare_client: Client, record_property: object
) -> None:
    run_load(bare_client, 100_000, record_property)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_load_200k_queued_jobs(bare_client: Client, record_property: object) -> None:
    run_load(bare_client, 200_000, record_property)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_load_300k_queued_jobs(bare_client: Client, record_property: object) -> None:
    run_load(bare_client, 300_000, record_property)
