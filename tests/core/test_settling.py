"""Ending several attempts in one call (settle.lua, Store.settle_many) and the group commit
that uses it (Settler): outcomes, refusals, counters and threads sharing round trips."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence

import pytest

from eduscribe_sdk import JobStatus, JobType, RedisUnavailableError, Settings
from eduscribe_sdk._creation import JobSpec
from eduscribe_sdk._store import Settlement, Started, Store, completion, connect, delayed_retry, failure
from eduscribe_sdk._worker import Settler


def create(store: Store, n: int, **kwargs: object) -> list[str]:
    specs = [
        JobSpec(job_type=JobType.TEXT_NOTES, input_data={"content": "x"}, user_id="u", **kwargs)  # type: ignore[arg-type]
        for _ in range(n)
    ]
    return [job_id for job_id, _, _ in store.create_jobs(specs)]


def claim_all(store: Store, n: int, worker: str = "w1") -> list[Started]:
    claimed = store.fetch_and_claim(worker, n)
    assert len(claimed) == n
    return claimed


def assert_books_balance(store: Store) -> None:
    """Counters, status indexes and records tell the same story."""
    snap = store.stats_snapshot()
    by_status: Counter[str] = Counter()
    for field, n in snap["counts"].items():
        by_status[field.rsplit("|", 1)[1]] += n
    for status in JobStatus:
        indexed = store.redis.zcard(store.keys.index_status(status.value))
        records = sum(1 for r in store.get_many(store.list_ids(limit=10_000)) if r and r.status is status)
        assert by_status[status.value] == indexed == records, status


def test_one_call_ends_many_attempts_each_its_own_way(store: Store) -> None:
    a, b, c, d = create(store, 4)
    (child,) = create(store, 1, depends_on=(b,))
    started = {s.id: s for s in claim_all(store, 4)}
    verdicts = store.settle_many(
        "w1",
        [
            completion(a, started[a].attempt, {"summary": "A"}),
            failure(b, started[b].attempt, "bad input", {"type": "PermanentError"}),
            delayed_retry(c, started[c].attempt, 60_000, "flaky", {"type": "TransientError"}),
            completion(d, started[d].attempt + 1, {"summary": "from a stale attempt"}),
        ],
    )
    assert verdicts == [True, True, True, False]
    records = {r.id: r for r in store.get_many([a, b, c, d, child]) if r}
    assert records[a].status is JobStatus.COMPLETED and records[a].output_data == {"summary": "A"}
    assert records[b].status is JobStatus.FAILED and records[b].error_message == "bad input"
    assert records[child].status is JobStatus.SKIPPED  # its dependency failed
    assert records[c].status is JobStatus.RETRYING and records[c].retry_count == 1
    assert records[d].status is JobStatus.PROCESSING  # the stale result changed nothing
    assert store.redis.zrange(store.keys.inflight("w1"), 0, -1) == []  # every entry acknowledged
    kinds = Counter(e.kind for e in store.read_events("0-0", count=1000))
    assert (kinds["completed"], kinds["failed"], kinds["retrying"], kinds["skipped"]) == (1, 1, 1, 1)
    assert_books_balance(store)
    durations = store.samples("duration")
    assert sum(len(v) for v in durations.values()) == 1


def test_parents_settled_in_one_call_release_their_child_once(store: Store) -> None:
    p1, p2 = create(store, 2)
    (child,) = create(store, 1, depends_on=(p1, p2))
    s1, s2 = claim_all(store, 2)
    assert store.settle_many("w1", [completion(s.id, s.attempt, {}) for s in (s1, s2)]) == [True, True]
    assert store.get(child).status is JobStatus.QUEUED
    released = [e for e in store.read_events("0-0", count=1000) if e.kind == "released"]
    assert [e.job_id for e in released] == [child]
    assert_books_balance(store)


def test_a_job_requeued_and_claimed_in_one_call_is_indexed_once(store: Store) -> None:
    """The fetch puts a dead worker's job back in line and claims it in the same script:
    the status index moves written at the end of the script keep only the last one."""
    (job_id,) = create(store, 1)
    claim_all(store, 1, worker="dead")
    store.redis.zadd(store.keys.workers, {"dead": 0})  # its heartbeat is ancient
    store.redis.delete(store.keys.reaper)
    (again,) = claim_all(store, 1, worker="alive")
    assert again.id == job_id and again.attempt == 2
    assert store.redis.zscore(store.keys.index_status("processing"), job_id) is not None
    assert store.redis.zscore(store.keys.index_status("queued"), job_id) is None
    assert store.redis.zrange(store.keys.inflight("alive"), 0, -1) == [job_id]
    assert_books_balance(store)


class GatedStore(Store):
    """A real store whose first settle call waits for a gate: the test decides what queues
    up behind a call in flight."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.gate = threading.Event()
        self.in_flight = threading.Event()
        self.calls: list[int] = []

    def settle_many(self, worker_id: str, settlements: Sequence[Settlement]) -> list[bool]:
        self.calls.append(len(settlements))
        if len(self.calls) == 1:
            self.in_flight.set()
            self.gate.wait(10)
        return super().settle_many(worker_id, settlements)


def test_threads_finishing_while_a_call_is_in_flight_share_the_next_one(
    redis_url: str, fast_settings: Settings
) -> None:
    store = GatedStore(connect(redis_url, settings=fast_settings), settings=fast_settings)
    create(store, 8)
    claimed = claim_all(store, 8)
    settler = Settler(store, "w1")
    results: dict[str, bool] = {}

    def finish(started: Started) -> None:
        results[started.id] = settler.settle(completion(started.id, started.attempt, {"by": started.id}))

    first = threading.Thread(target=finish, args=(claimed[0],))
    first.start()
    assert store.in_flight.wait(10)
    others = [threading.Thread(target=finish, args=(s,)) for s in claimed[1:]]
    for t in others:
        t.start()
    while len(settler._queue) < 7:  # all seven wait behind the call in flight
        time.sleep(0.005)
    store.gate.set()
    for t in [first, *others]:
        t.join(10)
    assert store.calls == [1, 7]
    assert results == {s.id: True for s in claimed}
    assert all(r and r.status is JobStatus.COMPLETED for r in store.get_many([s.id for s in claimed]))
    assert_books_balance(store)


def test_an_unreachable_redis_fails_every_waiter_and_blocks_nobody(fast_settings: Settings) -> None:
    from eduscribe_sdk.testing import free_port

    unreachable = connect(f"redis://127.0.0.1:{free_port()}/0", settings=fast_settings)
    store = Store(unreachable, settings=fast_settings)
    settler = Settler(store, "w1")
    errors: list[BaseException] = []

    def finish(i: int) -> None:
        try:
            settler.settle(completion(f"job-{i}", 1, {}))
        except RedisUnavailableError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=finish, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(errors) == 4 and not any(t.is_alive() for t in threads)
    with pytest.raises(RedisUnavailableError):  # the next call is made, not stuck behind a flag
        settler.settle(Settlement("ack", "job-0", 0))


def test_a_worker_fetches_the_next_job_while_the_last_outcome_is_being_recorded(
    redis_url: str, fast_settings: Settings
) -> None:
    """One job slot: while the first job's completion is in flight (held at a gate), the
    consumer already claims the second job for the slot, so the thread finds it waiting."""
    from dataclasses import replace

    from eduscribe_sdk._worker import InProcessWorker
    from tests.core.jobs import OVERRIDES, plan

    settings = replace(fast_settings, processor_overrides=OVERRIDES, worker_threads=1)
    store = GatedStore(connect(redis_url, settings=settings), settings=settings)
    first = create_one(store, plan())
    worker = InProcessWorker(store, settings=settings, threads=1)
    worker.start()
    try:
        assert store.in_flight.wait(10)  # the first job ran; its completion is held
        second = create_one(store, plan())
        deadline = time.monotonic() + 5
        while store.get(second).status is not JobStatus.PROCESSING and time.monotonic() < deadline:
            time.sleep(0.01)
        assert store.get(second).status is JobStatus.PROCESSING  # claimed during the settle
        assert store.get(first).status is JobStatus.PROCESSING  # still being recorded
        store.gate.set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
            r and r.status is JobStatus.COMPLETED for r in store.get_many([first, second])
        ):
            time.sleep(0.02)
        assert all(r and r.status is JobStatus.COMPLETED for r in store.get_many([first, second]))
    finally:
        store.gate.set()
        worker.stop()


def create_one(store: Store, input_data: dict[str, object]) -> str:
    spec = JobSpec(job_type=JobType.TEXT_NOTES, input_data=input_data, user_id="u")
    return store.create_jobs([spec])[0][0]
