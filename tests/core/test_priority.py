"""Strict priority across the tier queues, and aging, with a real worker."""

from __future__ import annotations

from dataclasses import replace

import pytest

from eduscribe_sdk import Client, JobRecord, Settings
from tests.core.jobs import OVERRIDES, plan


def start_order(records: list[JobRecord]) -> list[str]:
    return [r.title or "" for r in sorted(records, key=lambda r: r.started_at or r.created_at)]


def test_urgent_jobs_start_before_every_queued_low_job(redis_url: str, fast_settings: Settings) -> None:
    settings = replace(fast_settings, processor_overrides=OVERRIDES, worker_threads=1)
    with Client(redis_url, user_id="free-user", workers=0, settings=settings) as producer:
        producer.set_user_tier("ent-user", "enterprise")
        producer.set_user_tier("premium-user", "premium")
        # Given a backlog of low jobs and a worker already busy with one of them
        low = [producer.create_job("text_notes", plan(sleep=0.3), title=f"low{i}") for i in range(5)]
        cursor = producer._store.last_event_id()
        with Client(redis_url, workers=1, settings=settings) as worker:
            first = worker.watch([low[0].id], since=cursor, timeout=10)
            next(e for e in first if e.kind == "started")
            # When urgent and high jobs are sent later
            high = [
                producer.create_job("text_notes", plan(), title=f"high{i}", user_id="premium-user")
                for i in range(2)
            ]
            urgent = [
                producer.create_job("text_notes", plan(), title=f"urgent{i}", user_id="ent-user")
                for i in range(3)
            ]
            records = worker.wait_all([j.id for j in low + high + urgent], timeout=60)
    order = start_order(records)
    # Then every urgent job starts before any high, and high before the low jobs still queued
    assert order[0] == "low0"
    assert order[1:4] == ["urgent0", "urgent1", "urgent2"]
    assert order[4:6] == ["high0", "high1"]
    assert order[6:] == ["low1", "low2", "low3", "low4"]


def test_queue_position_counts_higher_tiers(bare_client: Client) -> None:
    bare_client.set_user_tier("ent", "enterprise")
    lows = [bare_client.create_job("text_notes", {"content": "a b c."}) for _ in range(3)]
    urgent = bare_client.create_job("text_notes", {"content": "a b c."}, user_id="ent")
    assert [j.refresh().position for j in lows] == [1, 2, 3]
    assert urgent.position == 0
    stats = bare_client.stats()
    assert stats.queue["queuedCount"] == 4 and stats.frame.loc["low", "depth"] == 3


def test_an_old_low_job_is_served_as_one_tier_higher(redis_url: str, fast_settings: Settings) -> None:
    import time

    settings = replace(fast_settings, processor_overrides=OVERRIDES, aging_seconds=1, worker_threads=1)
    with Client(redis_url, user_id="free-user", workers=0, settings=settings) as producer:
        producer.set_user_tier("basic-user", "basic")
        old_low = producer.create_job("text_notes", plan(), title="old-low")

        def waited_s() -> float:  # by the server's clock, the one the fetch ranks by
            seconds, micros = producer._store.redis.time()
            return seconds + micros / 1e6 - old_low.record.created_at.timestamp()

        # Once it waited longer than EDUSCRIBE_AGING_SECONDS it competes as normal
        while waited_s() <= 1.05:
            time.sleep(0.02)
        fresh_normal = producer.create_job("text_notes", plan(), title="fresh-normal", user_id="basic-user")
        fresh_low = producer.create_job("text_notes", plan(), title="fresh-low")
        assert old_low.refresh().position == 0 and fresh_normal.refresh().position == 1
        with Client(redis_url, workers=1, settings=settings) as worker:
            records = worker.wait_all([old_low.id, fresh_normal.id, fresh_low.id], timeout=30)
    assert start_order(records) == ["old-low", "fresh-normal", "fresh-low"]


def test_estimated_wait_uses_observed_durations_and_live_slots(
    redis_url: str, fast_settings: Settings
) -> None:
    settings = replace(fast_settings, processor_overrides=OVERRIDES, worker_threads=1)
    with Client(redis_url, workers=1, settings=settings) as client:
        client.wait_all([client.create_job("text_notes", plan(sleep=0.2)).id for _ in range(3)], timeout=30)
    with Client(redis_url, workers=0, settings=settings) as client:
        queued = [client.create_job("text_notes", plan()) for _ in range(4)]
        # No live worker: one slot is assumed, so the wait grows with the position.
        waits = [client.estimated_wait_seconds(j.id) for j in queued]
        assert waits[0] == 0.0
        assert waits[1] is not None and 0.15 < waits[1] < 1.0
        assert waits[3] == pytest.approx(3 * waits[1])
