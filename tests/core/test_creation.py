"""Bulk creation: all or none across script calls, and the pipeline that overlaps them."""

from __future__ import annotations

import threading

import pytest
import redis

from eduscribe_sdk import (
    InvalidInputError,
    JobStatus,
    JobType,
    Priority,
    PriorityNotAllowedError,
    UnknownDependencyError,
)
from eduscribe_sdk._creation import WRITE_CHUNK, JobSpec, _Pipeline, create_jobs
from eduscribe_sdk._store import Store

MANY = WRITE_CHUNK * 2 + 10  # three write calls and a check


def spec(job_id: str = "", *deps: str, user: str = "u", priority: Priority | None = None) -> JobSpec:
    return JobSpec(
        job_type=JobType.TEXT_NOTES,
        input_data={"content": "x"},
        user_id=user,
        id=job_id,
        priority=priority,
        depends_on=deps,
    )


def chain(n: int, prefix: str = "j") -> list[JobSpec]:
    return [spec(f"{prefix}{i}", *([f"{prefix}{i - 1}"] if i else [])) for i in range(n)]


def test_a_batch_written_in_several_calls_is_created_whole_and_in_order(store: Store) -> None:
    created = store.create_jobs(chain(MANY))
    assert [job_id for job_id, _, _ in created] == [f"j{i}" for i in range(MANY)]
    assert created[0][1] is JobStatus.QUEUED and {s for _, s, _ in created[1:]} == {JobStatus.WAITING}
    assert store.count() == MANY
    # Dependencies across call boundaries were recorded: the last job waits on the one before.
    assert store.get(f"j{MANY - 1}").depends_on == (f"j{MANY - 2}",)


def test_an_empty_batch_creates_nothing(store: Store) -> None:
    assert store.create_jobs([]) == [] and store.count() == 0


def test_a_refused_job_anywhere_in_a_big_batch_leaves_nothing(store: Store) -> None:
    store.set_user_tier("free", "free")
    specs = chain(MANY)
    specs.append(spec("greedy", user="free", priority=Priority.URGENT))
    with pytest.raises(PriorityNotAllowedError, match=f"job {MANY + 1}"):
        store.create_jobs(specs)
    with pytest.raises(UnknownDependencyError) as info:
        store.create_jobs([*chain(MANY), spec("late", "nowhere")])
    assert info.value.ids == ["nowhere"]
    assert store.count() == 0

    store.create_jobs([spec("taken")])
    with pytest.raises(InvalidInputError, match="already exist: taken"):
        store.create_jobs([*chain(MANY, "k"), spec("taken")])
    assert store.count() == 1


def test_an_input_json_cannot_encode_fails_a_big_batch_before_any_call(store: Store) -> None:
    bad = JobSpec(job_type=JobType.TEXT_NOTES, input_data={"content": object()}, user_id="u", id="bad")
    with pytest.raises(InvalidInputError, match=r"input_data\.content: object is not a JSON type"):
        store.create_jobs([*chain(MANY), bad])
    assert store.count() == 0
    # The guarantee is an order, not luck: no script call at all is made before the failure
    # (the script runner here records calls; it never answers for Redis).
    calls: list[str] = []
    with pytest.raises(InvalidInputError):
        create_jobs(lambda mode, document: calls.append(mode) or "", [*chain(MANY), bad])
    assert calls == []


def test_inputs_keep_what_json_can_encode_and_json_refuses_what_it_refused(store: Store) -> None:
    """Inputs are serialised with orjson, falling back to json: an integer beyond 64 bits
    (orjson refuses it) is kept exactly; a datetime (orjson could encode it) is refused as
    bad input, before anything is written."""
    from datetime import UTC, datetime

    big = JobSpec(job_type=JobType.TEXT_NOTES, input_data={"content": "é", "n": 2**70}, user_id="u", id="big")
    store.create_jobs([big])
    assert store.get("big").input_data == {"content": "é", "n": 2**70}
    when = JobSpec(job_type=JobType.TEXT_NOTES, input_data={"at": datetime.now(UTC)}, user_id="u", id="when")
    with pytest.raises(InvalidInputError, match=r"input_data\.at"):
        store.create_jobs([when])
    assert store.count() == 1


def test_two_creators_racing_for_the_same_big_batch_create_it_once(store: Store) -> None:
    specs = chain(MANY)
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def create() -> None:
        barrier.wait()
        try:
            outcomes.append(len(store.create_jobs(specs)))
        except InvalidInputError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(type, outcomes), key=str) == sorted([int, InvalidInputError], key=str)
    assert MANY in outcomes and store.count() == MANY


def test_the_pipeline_stops_at_the_first_refusal() -> None:
    """Calls run in order; after a refusal the calls already queued behind it never run."""
    ran: list[str] = []
    release = threading.Event()

    def run(mode: str, document: str) -> str:
        release.wait(5)  # let the caller queue every call before the first one answers
        ran.append(document)
        if document == "second":
            raise redis.ResponseError("EXISTS j1")
        return "queued:low"

    chunk = [("j1", spec("j1"))]
    with pytest.raises(InvalidInputError, match="already exist: j1"), _Pipeline(run) as pipeline:
        for document in ("first", "second", "third"):
            pipeline.send("write", document, chunk, 0)
        release.set()
        pipeline.replies()
    assert ran == ["first", "second"]
