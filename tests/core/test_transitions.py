"""Every function of the Lua library moves jobs only along ``TRANSITIONS`` (_models.py), the
one table of legal moves, which the library gets generated and the docs draw.

Each case puts a job into a status through the real operations, applies one action, and
replays the job's events: every change of status they show must follow the table (retry
moves a job twice in one call, failed -> waiting -> queued, and emits one event; set_status()
checks each move as it is made, which the strict-library test below proves).
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from eduscribe_sdk import InvalidTransitionError, JobNotFoundError, JobSpec, JobStatus, JobType, Settings
from eduscribe_sdk._library import build_library, call
from eduscribe_sdk._models import INITIAL_STATUSES, TRANSITIONS
from eduscribe_sdk._store import SAMPLE_CAP, Store, completion, delayed_retry, failure

S = JobStatus
WORKER = "w1"
REPO = Path(__file__).resolve().parents[2]


class Case:
    """One job (and its dependency, if it needs one) in its own key prefix."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.job = "job"
        self.parent = "parent"
        self.attempt = 0

    def create(self, job_id: str, depends_on: tuple[str, ...] = ()) -> None:
        spec = JobSpec(JobType.TEXT_NOTES, {"content": "x"}, "u", id=job_id, depends_on=depends_on)
        self.store.create_jobs([spec])

    def claim(self) -> None:
        (started,) = self.store.fetch_and_claim(WORKER, 1)
        assert started.id == self.job
        self.attempt = started.attempt

    def settle(self, op: str) -> bool:
        settlements = {
            "complete": completion(self.job, self.attempt, {"title": "t"}),
            "fail": failure(self.job, self.attempt, "broken", {}),
            "retry": delayed_retry(self.job, self.attempt, 60_000, "flaky", {}),
        }
        return self.store.settle(WORKER, settlements[op])


def put_in(case: Case, status: JobStatus) -> None:
    """Bring ``case.job`` to ``status`` the way real use does."""
    if status in (S.WAITING, S.SKIPPED):
        case.create(case.parent)
        if status is S.SKIPPED:
            case.store.cancel(case.parent)
        case.create(case.job, (case.parent,))
        return
    case.create(case.job)
    if status is S.CANCELLED:
        case.store.cancel(case.job)
    elif status is not S.QUEUED:
        case.claim()
        if status is not S.PROCESSING:
            case.settle({S.RETRYING: "retry", S.COMPLETED: "complete", S.FAILED: "fail"}[status])


def _quietly(action: Callable[[], object]) -> None:
    # A refusal: the job must not have moved (the replay checks it). No parent: nothing to do.
    with contextlib.suppress(InvalidTransitionError, JobNotFoundError):
        action()


ACTIONS: dict[str, Callable[[Case], None]] = {
    "cancel": lambda c: _quietly(lambda: c.store.cancel(c.job)),
    "retry": lambda c: _quietly(lambda: c.store.retry(c.job)),
    "start": lambda c: c.store.start(c.job, "w2"),
    "fetch and claim": lambda c: c.store.fetch_and_claim("w2", 5),
    "fetch": lambda c: c.store.fetch("w2", 5),
    "progress": lambda c: c.store.report_progress(c.job, max(c.attempt, 1), 50),
    "complete": lambda c: c.settle("complete"),
    "fail": lambda c: c.settle("fail"),
    "retry later": lambda c: c.settle("retry"),
    "requeue": lambda c: c.store.requeue(c.job, WORKER, max(c.attempt, 1)),
    "unfetch": lambda c: c.store.unfetch(c.job, WORKER),
    "ack": lambda c: c.store.ack(c.job, WORKER),
    "heartbeat reconciles": lambda c: c.store.heartbeat(
        WORKER, host="h", pid=1, threads=1, started_at=0.0, held=[], grace_s=0
    ),
    "worker leaves": lambda c: c.store.leave(WORKER),
    "reconcile after a restart": lambda c: c.store.reconcile(
        WORKER, [(c.job, c.attempt + 1)], [(c.job, max(c.attempt, 1))]
    ),
    "dependency completes": lambda c: _dependency(c, "complete"),
    "dependency fails": lambda c: _dependency(c, "fail"),
    "dependency cancelled": lambda c: _quietly(lambda: c.store.cancel(c.parent)),
}


def _dependency(case: Case, op: str) -> None:
    """Runs the parent (if it is queued) to the end ``op`` names."""
    parent = case.store.get_many([case.parent])[0]
    if parent is None or parent.status is not S.QUEUED:
        return
    case.job, case.parent = case.parent, case.job
    try:
        case.claim()
        case.settle(op)
    finally:
        case.job, case.parent = case.parent, case.job


def legal(old: JobStatus, new: JobStatus) -> bool:
    """One move of the table, or two through waiting: retry resets a job to waiting and
    queues it in the same call (set_status() checks each move as it is made)."""
    through_waiting = S.WAITING in TRANSITIONS[old] and new in TRANSITIONS[S.WAITING]
    return new == old or new in TRANSITIONS[old] or through_waiting


def statuses_seen(store: Store, job_id: str) -> list[JobStatus]:
    events = store.read_events("0-0", count=10_000)
    return [e.status for e in events if e.job_id == job_id and e.status is not None]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", list(JobStatus))
def test_every_action_moves_a_job_only_along_the_table(
    redis_url: str, fast_settings: Settings, status: JobStatus, action: str
) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    store = Store(client, settings=fast_settings, prefix="transitions")
    case = Case(store)
    put_in(case, status)
    seen = statuses_seen(store, case.job)
    assert seen[0] in INITIAL_STATUSES and seen[-1] is status
    ACTIONS[action](case)
    moves = statuses_seen(store, case.job)[len(seen) - 1 :]
    for old, new in itertools.pairwise(moves):
        assert legal(old, new), f"{action}: {old} -> {new}"
    assert store.get(case.job).status is moves[-1]
    client.close()


@pytest.mark.parametrize("status", [s for s in JobStatus if S.CANCELLED not in TRANSITIONS[s]])
def test_cancel_is_refused_where_the_table_has_no_move_to_cancelled(
    redis_url: str, fast_settings: Settings, status: JobStatus
) -> None:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True), settings=fast_settings)
    case = Case(store)
    put_in(case, status)
    with pytest.raises(InvalidTransitionError, match=f"it is {status.value}"):
        store.cancel(case.job)


@pytest.mark.parametrize("status", [s for s in JobStatus if S.WAITING not in TRANSITIONS[s]])
def test_retry_is_refused_where_the_table_has_no_move_back_to_waiting(
    redis_url: str, fast_settings: Settings, status: JobStatus
) -> None:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True), settings=fast_settings)
    case = Case(store)
    put_in(case, status)
    with pytest.raises(InvalidTransitionError, match=f"it is {status.value}"):
        store.retry(case.job)


def test_a_move_missing_from_the_table_is_refused_by_the_library(store: Store) -> None:
    """The generated table is what the library enforces: without processing -> completed,
    completing a job fails the call and the job stays processing."""
    table = {**TRANSITIONS, S.PROCESSING: TRANSITIONS[S.PROCESSING] - {S.COMPLETED}}
    strict = build_library(events_maxlen=100, sample_cap=SAMPLE_CAP, transitions=table)
    case = Case(store)
    put_in(case, S.PROCESSING)
    args = [WORKER, "complete", case.job, str(case.attempt), "{}", "", ""]
    with pytest.raises(redis.ResponseError, match="illegal transition processing -> completed"):
        call(store.redis, strict, "settle", store.keys.prefix, args)
    assert store.get(case.job).status is S.PROCESSING


def test_the_docs_draw_the_same_table() -> None:
    text = (REPO / "docs" / "architecture.md").read_text()
    drawn: dict[str, set[str]] = {}
    for line in text.splitlines():
        cells = [c.strip(" `") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] in {s.value for s in JobStatus}:
            drawn[cells[0]] = {m.strip(" `") for m in re.split(r",", cells[1]) if m.strip(" `—-")}
    assert drawn == {s.value: {t.value for t in TRANSITIONS[s]} for s in JobStatus}
