"""Strict records: bad values never reach a record, and a record nobody can parse harms only itself.

A record can still be corrupted behind the SDK's back (an operator's HSET, a bug in an older
version): readers skip it with a warning, ``get_job`` names it, and a worker fails that one
job as corrupt and runs the rest of its batch.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import redis

from eduscribe_sdk import Client, CorruptRecordError, InvalidInputError, JobStatus, Settings
from eduscribe_sdk._keys import Keys
from tests.core.jobs import OVERRIDES, plan
from tests.reliability.conftest import wait_for


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    yield r
    r.close()


@pytest.fixture
def scripted(fast_settings: Settings) -> Settings:
    return replace(fast_settings, processor_overrides=OVERRIDES)


def _refused(client: Client, raw: redis.Redis, field: str, call: Callable[[], object]) -> None:
    before = raw.dbsize()
    with pytest.raises(InvalidInputError) as caught:
        call()
    assert caught.value.field == field, caught.value
    assert raw.dbsize() == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_retries": True}, "max_retries"),
        ({"max_retries": 2.0}, "max_retries"),
        ({"estimated_duration_seconds": math.inf}, "estimated_duration_seconds"),
        ({"estimated_duration_seconds": math.nan}, "estimated_duration_seconds"),
        ({"estimated_duration_seconds": True}, "estimated_duration_seconds"),
        ({"user_id": 7}, "user_id"),
        ({"user_id": "x" * 1_000_000}, "user_id"),
        ({"user_id": "a\x00b"}, "user_id"),
        ({"batch_id": "a\x00b"}, "batch_id"),
        ({"batch_id": 3}, "batch_id"),
        ({"title": "t\x00"}, "title"),
        ({"title": "\udc80"}, "title"),
        ({"depends_on": None}, "depends_on"),
        ({"depends_on": ["x" * 1000]}, "depends_on"),
        ({"depends_on": ["a\x00"]}, "depends_on"),
    ],
)
def test_bad_fields_are_refused_before_anything_is_written(
    bare_client: Client, raw: redis.Redis, kwargs: dict[str, Any], field: str
) -> None:
    _refused(bare_client, raw, field, lambda: bare_client.create_job("text_notes", plan(), **kwargs))


def test_text_with_a_lone_surrogate_is_refused_at_creation(bare_client: Client, raw: redis.Redis) -> None:
    _refused(bare_client, raw, "content", lambda: bare_client.submit_text("notes \ud800 here"))


def test_bulk_create_checks_every_spec(bare_client: Client, raw: redis.Redis) -> None:
    good = bare_client.prepare_job("text_notes", plan(), id="good")
    # A spec built by hand, not through prepare_job, still cannot write a bad record.
    bad = replace(good, id="bad", max_retries=True)
    _refused(bare_client, raw, "max_retries", lambda: bare_client.create_jobs([good, bad]))
    _refused(bare_client, raw, "id", lambda: bare_client.create_jobs([replace(good, id="a\x00")]))


def _corrupt(raw: redis.Redis, job_id: str, **fields: str) -> None:
    raw.hset(Keys().job(job_id), mapping=fields)


def test_readers_skip_a_corrupt_record_and_get_job_names_it(
    bare_client: Client, raw: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    good = bare_client.create_job("text_notes", plan(), title="good")
    bad = bare_client.create_job("text_notes", plan(), title="bad")
    _corrupt(raw, bad.id, max_retries="True")
    with caplog.at_level(logging.WARNING, logger="eduscribe"):
        assert [r.id for r in bare_client.list_jobs()] == [good.id]
        assert list(bare_client.jobs_frame()["id"]) == [good.id]
        assert [j["id"] for j in bare_client.stats().queue["recentJobs"]] == [good.id]
        assert bare_client.stats().totals["total_jobs"] == 2  # counted, not shown
    assert any(bad.id in r.getMessage() for r in caplog.records)
    with pytest.raises(CorruptRecordError) as caught:
        bare_client.get_job(bad.id)
    assert caught.value.job_id == bad.id
    assert "max_retries" in str(caught.value)


@pytest.mark.parametrize(
    ("damage", "outcome"),
    [
        ({"max_retries": "True"}, "failed"),
        ({"retry_count": "many"}, "failed"),
        ({"input": "{not json"}, "failed"),
        ({"depends_on": "[oops"}, "failed"),
        ({"job_type": "bogus_type"}, "failed"),
        # Fields only the claim reads, and rewrites: the job runs.
        ({"attempt": "x", "queued_at": "y"}, "completed"),
    ],
)
def test_a_worker_fails_a_corrupt_job_and_runs_the_rest_of_its_batch(
    redis_url: str, scripted: Settings, raw: redis.Redis, damage: dict[str, str], outcome: str
) -> None:
    with Client(redis_url, user_id="tester", workers=0, settings=scripted) as creator:
        jobs = [creator.create_job("text_notes", plan(), title=f"job {n}") for n in range(3)]
    # The middle job of the three that one fetch hands out together.
    _corrupt(raw, jobs[1].id, **damage)
    with Client(redis_url, user_id="tester", workers=3, settings=scripted) as client:
        good = [jobs[0].id, jobs[2].id]

        def settled() -> bool:
            statuses = [raw.hget(Keys().job(j.id), "status") for j in jobs]
            return statuses[0] == statuses[2] == "completed" and statuses[1] == outcome

        wait_for(settled, 20, f"the good jobs to complete and the damaged one to end {outcome}")
        assert [r.status for r in client.get_jobs(good) if r] == [JobStatus.COMPLETED] * 2
        if outcome == "failed":
            message = raw.hget(Keys().job(jobs[1].id), "error_message") or ""
            assert message.startswith("corrupt record"), message
        assert raw.zcard(Keys().inflight(client.worker_id or "")) == 0


def test_a_damaged_tier_grants_the_least_and_breaks_no_listing(bare_client: Client, raw: redis.Redis) -> None:
    bare_client.set_user_tier("alice", "premium")
    raw.hset(Keys().tiers, "mallory", "emperor")
    assert bare_client.user_tier("mallory").value == "free"
    tiers = {user: tier.value for user, tier in bare_client.user_tiers().items()}
    assert tiers == {"alice": "premium", "mallory": "free"}
