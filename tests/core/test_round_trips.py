"""Redis round trips per job stay few: counted by the real server's command statistics."""

from __future__ import annotations

from dataclasses import replace

import redis

from eduscribe_sdk import Client, JobSpec, JobType, Settings
from tests.core.jobs import OVERRIDES, plan


def script_calls(url: str) -> int:
    """Calls of the Lua library (and of any script, so that none slips past the count)."""
    stats = redis.Redis.from_url(url).info("commandstats")
    names = ("fcall", "fcall_ro", "evalsha", "eval")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in names)


def test_a_job_costs_about_five_script_calls(redis_url: str, fast_settings: Settings) -> None:
    # Given 200 jobs created in one bulk call, each reporting progress once
    settings = replace(fast_settings, processor_overrides=OVERRIDES, heartbeat_interval_s=5)
    n = 200
    with Client(redis_url, workers=2, settings=settings) as client:
        client.wait_all([client.create_job("text_notes", plan()).id], timeout=30)  # warm up
        before = script_calls(redis_url)
        specs = [
            JobSpec(job_type=JobType.TEXT_NOTES, input_data=plan(), user_id="u", id=f"job-{i}")
            for i in range(n)
        ]
        ids = client.create_jobs(specs)
        client.wait_all(ids, timeout=60)
        per_job = (script_calls(redis_url) - before) / n
    # Then each job cost: start, progress, settle (+ its share of the bulk create and fetches)
    print(f"script calls per job: {per_job:.2f}")
    assert per_job <= 5.0, per_job
