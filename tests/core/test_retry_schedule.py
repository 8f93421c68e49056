"""The retry schedule as Redis stores it.

A transient failure puts the job in the delayed set, due ``retry_delay_ms * 2**retries`` after
the failure (plus up to 25 % jitter), never later than ``max_retry_delay_ms`` (plus jitter) and
never sooner than the error's ``retry_after``. Each test reads the due time (the delayed set's
score) against the moment the record says the job started retrying (``updated_at``), both
written by the same Redis call.

A worker thread's part is played by hand with the real broker, consumer, lifecycle middleware
and actor (what dramatiq's Worker does with each message), so the test reads every scheduled
time before any fetch could move the job back in line.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from eduscribe_sdk import JobSpec, JobStatus, JobType, Settings
from eduscribe_sdk._store import Store
from eduscribe_sdk._worker import LOGICAL_QUEUE, JobLifecycle, JobMessage, PriorityBroker, build_broker
from eduscribe_sdk.errors import TransientError
from tests.core.jobs import plan
from tests.fake_openai import DUCK, FakeOpenAI, Reply, server

__all__ = ["server"]  # the fixture, imported to be used here

JITTER = 1.25  # the lifecycle's largest jitter factor
BASE_MS, CAP_MS = 40, 300


class HandWorker:
    """One job slot of a worker process, driven step by step by the test."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.broker: PriorityBroker = build_broker(store, settings)
        (self.lifecycle,) = [m for m in self.broker.middleware if isinstance(m, JobLifecycle)]
        self.consumer = self.broker.consume(LOGICAL_QUEUE, prefetch=2, timeout=50)

    def next_message(self, timeout: float = 10.0) -> JobMessage:
        """The next job the consumer hands out (a due retry goes back in line on a fetch)."""
        deadline = time.monotonic() + timeout
        while (message := next(self.consumer)) is None:
            if time.monotonic() > deadline:
                pytest.fail(f"no job handed out within {timeout} s")
        assert isinstance(message, JobMessage)
        return message

    def fail(self, exception: BaseException) -> str:
        """The next job's attempt ends with ``exception``; returns the job id."""
        message = self.next_message()
        self.lifecycle.before_process_message(self.broker, message)
        self.lifecycle.after_process_message(self.broker, message, exception=exception)
        self.consumer.ack(message)
        return message.message_id

    def run_actor(self) -> str:
        """The next job's attempt runs its actor, as dramatiq's worker thread does."""
        message = self.next_message()
        self.lifecycle.before_process_message(self.broker, message)
        error: BaseException | None = None
        try:
            self.broker.get_actor(message.actor_name)(*message.args, **message.kwargs)
        except Exception as e:
            error = e
        self.lifecycle.after_process_message(self.broker, message, exception=error)
        self.consumer.ack(message)
        return message.message_id

    def close(self) -> None:
        self.consumer.close()


def scheduled_delay_ms(store: Store, job_id: str) -> float:
    """How long after its failure the stored schedule lets the job run again."""
    record = store.get(job_id)
    due_ms = store.redis.zscore(store.keys.delayed, job_id)
    assert record is not None and record.status is JobStatus.RETRYING and due_ms is not None
    return float(due_ms) - record.updated_at.timestamp() * 1000


def create(store: Store, *, max_retries: int, input_data: dict[str, str] | None = None) -> str:
    spec = JobSpec(
        job_type=JobType.TEXT_NOTES, input_data=input_data or plan(), user_id="u", max_retries=max_retries
    )
    ((job_id, _, _),) = store.create_jobs([spec])
    return job_id


@pytest.fixture
def settings(fast_settings: Settings) -> Settings:
    return replace(fast_settings, retry_delay_ms=BASE_MS, max_retry_delay_ms=CAP_MS)


@pytest.fixture
def hand(store: Store, settings: Settings) -> Iterator[HandWorker]:
    worker = HandWorker(store, settings)
    yield worker
    worker.close()


def assert_within(delay_ms: float, expected_ms: float) -> None:
    # 1 ms either side: the due time is whole milliseconds, the record's time microseconds.
    assert expected_ms - 1 <= delay_ms <= expected_ms * JITTER + 1, (delay_ms, expected_ms)


def test_each_retry_waits_twice_as_long_up_to_the_cap(store: Store, hand: HandWorker) -> None:
    # Given a job that fails transiently on every attempt, with five retries
    job_id = create(store, max_retries=5)
    delays = []
    for _ in range(5):
        # When an attempt fails, the job waits in the delayed set until its due time
        assert hand.fail(TransientError("flaky")) == job_id
        delays.append(scheduled_delay_ms(store, job_id))
    # Then the waits double from the base delay (40, 80, 160 ms), then stay at the cap (300 ms)
    for retries, delay in enumerate(delays):
        assert_within(delay, min(CAP_MS, BASE_MS * 2**retries))
    assert store.get(job_id).retry_count == 5  # type: ignore[union-attr]
    # And the last attempt, out of retries, fails instead of scheduling another
    hand.fail(TransientError("flaky"))
    assert store.get(job_id).status is JobStatus.FAILED  # type: ignore[union-attr]
    assert store.redis.zscore(store.keys.delayed, job_id) is None


def test_retry_after_is_a_lower_bound_for_the_wait(store: Store, hand: HandWorker) -> None:
    job_id = create(store, max_retries=3)
    # A processor error asking for 250 ms, more than the first back-off (40 ms): it wins
    hand.fail(TransientError("rate limited", retry_after=0.25))
    assert_within(scheduled_delay_ms(store, job_id), 250)
    # One asking for less than the back-off (80 ms at the second retry) waits the back-off
    hand.fail(TransientError("rate limited", retry_after=0.01))
    assert_within(scheduled_delay_ms(store, job_id), 2 * BASE_MS)
    # One asking for more than the cap waits the cap: a server's Retry-After of hours
    # cannot park a job for longer than max_retry_delay_ms
    hand.fail(TransientError("rate limited", retry_after=10))
    assert_within(scheduled_delay_ms(store, job_id), CAP_MS)


@pytest.mark.parametrize(
    ("headers", "expected_ms"),
    [({"retry-after-ms": "270"}, 270), ({"Retry-After": "0.2"}, 200)],
    ids=["retry-after-ms", "retry-after"],
)
def test_an_llm_rate_limit_answer_sets_the_stored_retry_time(
    store: Store, settings: Settings, server: FakeOpenAI, headers: dict[str, str], expected_ms: int
) -> None:
    # Given a text job whose notes come from an LLM server that answers 429 with a wait
    llm = replace(settings, openai_api_key="sk-test", openai_base_url=server.url)
    server.replies = [Reply("error_429.json", status=429, headers=headers)]
    job_id = create(store, max_retries=1, input_data={"content": DUCK})
    worker = HandWorker(store, llm)
    try:
        # When the worker runs it
        assert worker.run_actor() == job_id
    finally:
        worker.close()
    # Then the job is scheduled no sooner than the server asked
    assert len(server.requests) == 1
    record = store.get(job_id)
    assert record is not None and "429" in (record.error_message or "")
    assert_within(scheduled_delay_ms(store, job_id), expected_ms)
