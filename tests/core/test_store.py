"""The job store on a real Redis: every transition, every refusal, and races between them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from eduscribe_sdk import (
    InvalidTransitionError,
    JobNotFoundError,
    JobStatus,
    JobType,
    Priority,
    PriorityNotAllowedError,
    Settings,
    UnknownDependencyError,
)
from eduscribe_sdk._creation import JobSpec
from eduscribe_sdk._store import Store, connect


def spec(user: str = "u", **kwargs: object) -> JobSpec:
    return JobSpec(job_type=JobType.TEXT_NOTES, input_data={"content": "x"}, user_id=user, **kwargs)  # type: ignore[arg-type]


def new(store: Store, **kwargs: object) -> str:
    ((job_id, _, _),) = store.create_jobs([spec(**kwargs)])
    return job_id


def claim(store: Store, worker: str = "w1") -> tuple[str, int]:
    (row,) = store.fetch(worker, 1)
    started = store.start(row[0], worker)
    assert started is not None
    return started.id, started.attempt


def test_created_job_is_queued_with_its_tier_priority(store: Store) -> None:
    store.set_user_tier("ent", "enterprise")
    job = store.get(new(store, user="ent"))
    assert (job.status, job.priority, job.queue_position) == (JobStatus.QUEUED, Priority.URGENT, 0)
    assert store.get(new(store, user="nobody")).priority is Priority.LOW


def test_priority_may_be_lowered_never_raised(store: Store) -> None:
    store.set_user_tier("basic", "basic")
    assert store.get(new(store, user="basic", priority=Priority.LOW)).priority is Priority.LOW
    with pytest.raises(PriorityNotAllowedError, match=r"basic tier.*normal or lower; high was requested"):
        new(store, user="basic", priority=Priority.HIGH)
    assert store.count() == 1


def test_full_lifecycle_keeps_counters_and_events(store: Store) -> None:
    job_id = new(store)
    claimed, attempt = claim(store)
    assert claimed == job_id
    assert store.report_progress(job_id, attempt, 40) == "ok"
    assert store.get(job_id).progress == 40
    assert store.complete(job_id, "w1", attempt, {"summary": "s"})
    record = store.get(job_id)
    assert record.status is JobStatus.COMPLETED and record.output_data == {"summary": "s"}
    assert record.actual_duration_seconds is not None and record.completed_at is not None
    snap = store.stats_snapshot()
    assert snap["statuses"]["completed"] == 1 and snap["statuses"]["queued"] == 0
    assert snap["counts"]["low|text_notes|completed"] == 1
    kinds = [e.kind for e in store.read_events("0-0") if e.job_id == job_id]
    assert kinds == ["created", "started", "progress", "completed"]


def test_completed_job_cannot_be_cancelled_and_cancelled_job_never_starts(store: Store) -> None:
    done = new(store)
    _, attempt = claim(store)
    store.complete(done, "w1", attempt, {})
    with pytest.raises(InvalidTransitionError, match="it is completed"):
        store.cancel(done)
    victim = new(store)
    store.cancel(victim)
    assert store.fetch("w1", 5) == []
    assert store.start(victim, "w1") is None
    assert store.get(victim).status is JobStatus.CANCELLED


def test_cancel_after_fetch_before_start_is_respected(store: Store) -> None:
    job_id = new(store)
    (row,) = store.fetch("w1", 1)
    store.cancel(job_id)
    assert store.start(row[0], "w1") is None
    assert store.redis.zcard(store.keys.inflight("w1")) == 0


def test_running_job_learns_of_cancellation_and_cannot_complete(store: Store) -> None:
    job_id = new(store)
    _, attempt = claim(store)
    store.cancel(job_id)
    assert store.report_progress(job_id, attempt, 50) == "cancelled"
    assert not store.complete(job_id, "w1", attempt, {"summary": "late"})
    assert store.get(job_id).output_data is None


def test_unknown_ids_are_named(store: Store) -> None:
    with pytest.raises(UnknownDependencyError, match="ghost-1, ghost-2"):
        store.create_jobs([spec(depends_on=("ghost-2", "ghost-1"))])
    with pytest.raises(JobNotFoundError, match="nope"):
        store.get("nope")
    with pytest.raises(JobNotFoundError):
        store.cancel("nope")
    assert store.count() == 0


def test_bulk_create_is_all_or_nothing(store: Store) -> None:
    store.set_user_tier("free", "free")
    with pytest.raises(PriorityNotAllowedError, match=r"job 2"):
        store.create_jobs([spec(id="a"), spec(id="b", user="free", priority=Priority.URGENT)])
    assert (store.count() == 0 and store.all_keys() == []) or set(store.all_keys()) <= {store.keys.tiers}


def test_transient_retry_goes_through_delayed_queue(store: Store) -> None:
    job_id = new(store)
    _, attempt = claim(store)
    assert store.retry_later(job_id, "w1", attempt, 0, "flaky", {"type": "TransientError"})
    record = store.get(job_id)
    assert record.status is JobStatus.RETRYING and record.retry_count == 1
    (row,) = store.fetch("w1", 1)  # due at once: moved back and handed out
    assert row[0] == job_id
    started = store.start(job_id, "w1")
    assert started is not None and started.attempt == 2 and started.retry_count == 1


def test_failure_keeps_error_details(store: Store) -> None:
    job_id = new(store)
    _, attempt = claim(store)
    details = {"type": "PermanentError", "message": "bad", "traceback": "Traceback…", "attempt": attempt}
    store.fail(job_id, "w1", attempt, "bad", details)
    record = store.get(job_id)
    assert record.status is JobStatus.FAILED
    assert record.error_message == "bad" and record.error_details == details


def test_stale_attempt_cannot_overwrite_result(store: Store) -> None:
    """A worker declared dead (e.g. stalled) comes back after its job ran elsewhere."""
    job_id = new(store)
    _, first = claim(store, "slow")
    store.redis.zadd(store.keys.workers, {"slow": 0})  # its heartbeat is ancient
    store.redis.delete(store.keys.reaper)
    assert store.fetch("fast", 1)[0][0] == job_id  # the maintenance pass requeued it
    second = store.start(job_id, "fast")
    assert second is not None and second.attempt == first + 1
    assert store.complete(job_id, "fast", second.attempt, {"by": "fast"})
    assert not store.complete(job_id, "slow", first, {"by": "slow"})
    assert store.get(job_id).output_data == {"by": "fast"}


def test_duplicate_message_for_a_running_job_is_refused(store: Store) -> None:
    job_id = new(store)
    claim(store, "w1")
    store.heartbeat("w1", host="h", pid=1, threads=1, started_at=0)
    assert store.start(job_id, "w2") is None  # w1 is alive and owns it
    assert store.get(job_id).worker_id == "w1"


def test_cleanup_removes_every_trace(store: Store) -> None:
    from datetime import UTC, datetime, timedelta

    first = new(store, batch_id="b1")
    second = store.create_jobs([spec(batch_id="b1", depends_on=(first,))])[0][0]
    for _ in (first, second):
        (row,) = store.fetch("w1", 1)
        started = store.start(row[0], "w1")
        assert started is not None
        store.complete(started.id, "w1", started.attempt, {"summary": "s"})
    assert store.get(second).status is JobStatus.COMPLETED
    assert store.cleanup(datetime.now(UTC) + timedelta(seconds=1)) == 2
    leftover = set(store.all_keys()) - {
        store.keys.events,
        store.keys.counts,
        store.keys.sums,
        store.keys.workers,
        store.keys.reaper,
        store.keys.sweep_cursor,
    }
    leftover = {k for k in leftover if ":stats:samples:" not in k}
    assert leftover == set()
    snap = store.stats_snapshot()
    assert snap["total"] == 0 and snap["statuses"]["completed"] == 0


def race(times: int, *actions: Callable[[], object]) -> list[list[object]]:
    """Run the actions at once, ``times`` times; returns each round's results or errors."""
    rounds = []
    for _ in range(times):
        barrier = threading.Barrier(len(actions))
        results: list[object] = [None] * len(actions)

        def run(i: int, action: Callable[[], object]) -> None:
            barrier.wait()
            try:
                results[i] = action()
            except Exception as exc:  # the race's loser may raise; keep it for the assertion
                results[i] = exc

        threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rounds.append(results)
    return rounds


def test_race_cancel_versus_start(store: Store) -> None:
    for _ in range(30):
        job_id = new(store)
        (row,) = store.fetch("w1", 1)
        ((cancelled, started),) = race(1, lambda: store.cancel(job_id), lambda: store.start(row[0], "w1"))
        status = store.get(job_id).status
        if isinstance(cancelled, InvalidTransitionError):
            pytest.fail("a job that was only fetched can always be cancelled")
        # Either the cancel came first (never started) or the start did (then cancelled while running).
        assert status is JobStatus.CANCELLED
        if started is not None:
            assert store.report_progress(job_id, started.attempt, 10) == "cancelled"  # type: ignore[attr-defined]
        assert store.fetch("w1", 1) == []


def test_race_two_workers_completing_the_same_job(store: Store) -> None:
    for _ in range(30):
        job_id = new(store)
        _, attempt = claim(store)
        ((a, b),) = race(
            1,
            lambda: store.complete(job_id, "w1", attempt, {"by": "a"}),
            lambda: store.complete(job_id, "w1", attempt, {"by": "b"}),
        )
        assert sorted([a, b]) == [False, True]
        events = [e for e in store.read_events("0-0", count=100000) if e.job_id == job_id]
        assert [e.kind for e in events].count("completed") == 1


def test_race_two_parents_finishing_at_once_release_the_child_once(store: Store) -> None:
    for _ in range(30):
        store.redis.flushall()
        p1, p2 = new(store), new(store)
        child = store.create_jobs([spec(depends_on=(p1, p2))])[0][0]
        rows = store.fetch("w1", 2)
        s1, s2 = (store.start(r[0], "w1") for r in rows)
        assert s1 and s2
        race(
            1,
            lambda: store.complete(s1.id, "w1", s1.attempt, {}),
            lambda: store.complete(s2.id, "w1", s2.attempt, {}),
        )
        assert store.get(child).status is JobStatus.QUEUED
        assert store.redis.zcard(store.keys.queue("eduscribe.low")) == 1
        released = [
            e for e in store.read_events("0-0", count=100000) if e.job_id == child and e.kind == "released"
        ]
        assert len(released) == 1


def test_race_many_fetchers_never_share_a_job(store: Store) -> None:
    store.create_jobs([spec() for _ in range(200)])
    taken: list[str] = []
    lock = threading.Lock()

    def grab(worker: str) -> None:
        while rows := store.fetch(worker, 3):
            with lock:
                taken.extend(r[0] for r in rows)

    threads = [threading.Thread(target=grab, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(taken) == 200 == len(set(taken))


def test_redis_down_gives_a_clear_error_quickly(fast_settings: Settings) -> None:
    import time

    from eduscribe_sdk import RedisUnavailableError
    from tests.conftest import free_port

    store = Store(
        connect(f"redis://:secret@127.0.0.1:{free_port()}/0", settings=fast_settings), settings=fast_settings
    )
    began = time.monotonic()
    with pytest.raises(RedisUnavailableError) as info:
        store.ping()
    assert time.monotonic() - began < fast_settings.socket_timeout_s + 1
    assert "secret" not in str(info.value) and "not reachable" in str(info.value)
    assert isinstance(info.value, ConnectionError)


def test_stale_queue_entries_never_let_a_lower_tier_jump_ahead(store: Store) -> None:
    """A fetch reads each tier's first entries once; when stale ones (ids whose job is gone
    or no longer queued) use them up, it reads that tier again before looking lower."""
    store.set_user_tier("boss", "enterprise")
    low = new(store)
    urgent = new(store, user="boss")
    queue = store.keys.queue("eduscribe.urgent")
    store.redis.zadd(queue, {f"ghost-{i}": 1 for i in range(3)})  # ahead of the urgent job
    taken = [started.id for started in store.fetch_and_claim("w1", 2)]
    assert taken == [urgent, low]
    assert store.redis.zcard(queue) == 0  # the stale entries were dropped on the way


def test_maintenance_sweep_repairs_a_stranded_waiting_job(store: Store) -> None:
    """A waiting job whose dependencies all completed is queued by the next maintenance pass."""
    parent = new(store)
    child = store.create_jobs([spec(depends_on=(parent,))])[0][0]
    # Simulate a lost release: the parent completed behind the store's back.
    store.redis.hset(store.keys.job(parent), "status", "completed")
    store.redis.delete(store.keys.reaper)
    rows = store.fetch("w1", 5)
    assert child in [r[0] for r in rows]


def test_a_document_password_never_shows_in_a_record(store: Store, tmp_path: Path) -> None:
    pdf = tmp_path / "locked.pdf"
    pdf.write_bytes(b"%PDF-1.4 stand-in")
    ((job_id, _, _),) = store.create_jobs(
        [
            JobSpec(
                job_type=JobType.FILE_NOTES,
                user_id="u",
                input_data={"path": str(pdf), "options": {"password": "hunter2"}},
            )
        ]
    )
    assert "hunter2" not in repr(store.get(job_id).to_dict())
    (row,) = store.fetch("w1", 1)
    started = store.start(row[0], "w1")
    assert started is not None and started.input_data["options"]["password"] == "hunter2"


def test_samples_stay_bounded_and_reads_see_the_newest_cap(store: Store) -> None:
    from eduscribe_sdk._store import SAMPLE_CAP

    jobs = SAMPLE_CAP + SAMPLE_CAP // 5
    store.create_jobs([spec() for _ in range(jobs)])
    done = 0
    while claimed := store.fetch_and_claim("w1", 50):
        for started in claimed:
            assert store.complete(started.id, "w1", started.attempt, {"markdown": "x"})
            done += 1
    assert done == jobs
    key = store.keys.samples("duration:low|text_notes")
    # Trimmed back to the cap once a tenth over it, so never more than 10 % above.
    assert SAMPLE_CAP <= store.redis.llen(key) <= SAMPLE_CAP * 1.1
    assert [len(v) for v in store.samples("duration").values()] == [SAMPLE_CAP]
