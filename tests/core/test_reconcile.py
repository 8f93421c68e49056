"""``reconcile`` (lua/reconcile.lua): what a worker repairs after Redis lost its last writes.

The states a restore leaves are made directly: a lost claim is a job queued at the attempt
before the worker's, a lost outcome a job still processing on the worker at its attempt.
"""

from __future__ import annotations

from eduscribe_sdk import JobSpec, JobStatus, JobType
from eduscribe_sdk._store import Store, completion

W = "w1"


def _create(store: Store, job_id: str) -> None:
    store.create_jobs([JobSpec(JobType.TEXT_NOTES, {"content": "x"}, "u", id=job_id)])


def _claimed(store: Store, job_id: str, worker: str = W) -> int:
    _create(store, job_id)
    started = store.start(job_id, worker)
    assert started is not None
    return started.attempt


def test_a_lost_outcome_is_named_for_the_worker_to_record_again(store: Store) -> None:
    attempt = _claimed(store, "a")
    assert store.reconcile(W, [], [("a", attempt)]) == ["a"]
    assert store.settle(W, completion("a", attempt, {"title": "t"}))
    assert store.get("a").status is JobStatus.COMPLETED


def test_a_lost_claim_is_taken_back_by_the_worker_running_it(store: Store) -> None:
    # Given: the worker runs attempt 1, but Redis came back with the job queued (attempt 0)
    _create(store, "b")
    assert store.reconcile(W, [("b", 1)], []) == []
    record = store.get("b")
    assert (record.status, record.worker_id) == (JobStatus.PROCESSING, W)
    assert store.fetch_and_claim("w2", 5) == []  # nobody else gets it
    assert store.settle(W, completion("b", 1, {"title": "t"}))


def test_a_lost_claim_and_outcome_are_taken_back_and_named(store: Store) -> None:
    _create(store, "c")
    assert store.reconcile(W, [], [("c", 1)]) == ["c"]
    assert store.get("c").worker_id == W


def test_jobs_that_moved_on_are_left_alone(store: Store) -> None:
    # Given: a job another worker runs now, a finished one and a cancelled one
    other = _claimed(store, "d", worker="w2")
    done = _claimed(store, "e")
    assert store.settle(W, completion("e", done, {"title": "t"}))
    _create(store, "f")
    store.cancel("f")

    # When: this worker reports them as its own (running, or with an outcome)
    replay = store.reconcile(W, [("d", other), ("f", 1)], [("d", other), ("e", done), ("f", 1)])

    # Then: nothing to record again, and nobody's job changed hands
    assert replay == []
    assert store.get("d").worker_id == "w2"
    assert store.get("e").status is JobStatus.COMPLETED
    assert store.get("f").status is JobStatus.CANCELLED


def test_a_claim_older_than_the_one_before_is_not_taken(store: Store) -> None:
    # A job queued at attempt 0 is not the lost claim of an attempt 3 (it was put back since).
    _create(store, "g")
    assert store.reconcile(W, [("g", 3)], [("g", 3)]) == []
    assert store.get("g").status is JobStatus.QUEUED


def test_a_run_whose_lost_claim_another_worker_took_is_told_to_stop(store: Store) -> None:
    # Given: Redis lost w1's claim (attempt 1) and w2 has claimed the job since: attempt 1 too
    _create(store, "h")
    assert store.start("h", "w2") is not None

    # Then: w1's progress report is answered "stale" (its run stops), w2's is not
    assert store.report_progress("h", 1, 10, W) == "stale"
    assert store.report_progress("h", 1, 20, "w2") == "ok"
    assert store.reconcile(W, [("h", 1)], []) == []
    assert store.get("h").worker_id == "w2"
