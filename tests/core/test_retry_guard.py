"""A retried job never runs next to its cancelled attempt (fetch.lua, start.lua, retry.lua)."""

from __future__ import annotations

from eduscribe_sdk import JobStatus
from eduscribe_sdk._store import Settlement, Store
from tests.core.test_store import new


def _cancel_and_retry_while_running(store: Store, worker: str = "A") -> str:
    job_id = new(store)
    (started,) = store.fetch_and_claim(worker, 1)
    store.cancel(job_id)  # attempt 1 keeps running until its worker notices
    store.retry(job_id)
    assert store.get(job_id).status is JobStatus.QUEUED
    return started.id


def test_retry_waits_until_the_cancelled_attempt_is_acknowledged(store: Store) -> None:
    job_id = _cancel_and_retry_while_running(store)
    assert store.fetch_and_claim("B", 1) == []
    assert store.fetch_and_claim("A", 1) == []  # nor on the same worker's other slot
    store.settle_many("A", [Settlement("ack", job_id, 0)])  # attempt 1 has stopped
    (again,) = store.fetch_and_claim("B", 1)
    assert again.id == job_id and again.attempt == 2
    assert store.redis.hget(store.keys.job(job_id), "held_by") is None


def test_a_job_behind_a_held_one_is_still_handed_out(store: Store) -> None:
    held = _cancel_and_retry_while_running(store)
    behind = new(store)
    (taken,) = store.fetch_and_claim("B", 1)
    assert taken.id == behind
    assert store.get(held).status is JobStatus.QUEUED


def test_a_message_without_a_claim_is_skipped_and_put_back(store: Store) -> None:
    job_id = _cancel_and_retry_while_running(store)
    assert store.start(job_id, "B") is None
    assert store.get(job_id).status is JobStatus.QUEUED
    store.settle_many("A", [Settlement("ack", job_id, 0)])
    (again,) = store.fetch_and_claim("B", 1)
    assert again.id == job_id


def test_a_dead_workers_attempt_does_not_hold_the_retry(store: Store) -> None:
    job_id = _cancel_and_retry_while_running(store)
    store.redis.zadd(store.keys.workers, {"A": 0})  # A has not been seen for ages
    (again,) = store.fetch_and_claim("B", 1)
    assert again.id == job_id
