"""What EduScribe relies on in dramatiq (pinned in pyproject.toml). Fails loudly on upgrade."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import replace

import dramatiq
import pytest
from dramatiq import worker as dramatiq_worker
from dramatiq.middleware import Middleware

from eduscribe_sdk import Client, JobFailed, JobStatus, Settings
from eduscribe_sdk._worker import LOGICAL_QUEUE, WorkerRuntime, middleware_stack
from tests.core.jobs import OVERRIDES, plan


def test_pinned_version() -> None:
    assert dramatiq.__version__ == "2.2.1"


def test_worker_hands_messages_back_to_the_consumer_of_their_queue_name() -> None:
    # Our messages carry queue_name == LOGICAL_QUEUE so that WorkerThread finds our consumer.
    source = inspect.getsource(dramatiq_worker.WorkerThread.process_message)
    assert "self.consumers[message.queue_name].post_process_message(message)" in source
    assert LOGICAL_QUEUE == "eduscribe"


def test_the_worker_hands_the_consumers_message_object_to_the_hooks_and_the_actor() -> None:
    # The claim and the run travel on our MessageProxy subclass (JobMessage): the Worker must
    # call the actor with that object's args, and hand that same object to every hook.
    source = inspect.getsource(dramatiq_worker.WorkerThread.process_message)
    assert "res = actor(*message.args, **message.kwargs)" in source
    assert 'self.broker.emit_before("process_message", message)' in source
    assert 'self.broker.emit_after("process_message", message, result=res)' in source
    # Why the actor leaves its output on the run instead of returning it:
    assert "has_results_middleware" in source


def test_hooks_and_worker_attributes_we_use_exist() -> None:
    for hook in (
        "before_process_message",
        "after_process_message",
        "after_worker_boot",
        "before_worker_shutdown",
        "after_worker_shutdown",
    ):
        assert callable(getattr(Middleware, hook))
    params = inspect.signature(dramatiq.Worker.__init__).parameters
    assert {"worker_threads", "worker_timeout"} <= set(params)
    assert "worker_threads" in inspect.getsource(dramatiq.Worker.__init__)
    names = [type(m).__name__ for m in middleware_stack(WorkerRuntime(None, Settings()))]
    # after_* hooks run in reverse: the lifecycle must settle after Shutdown let go.
    assert names.index("JobLifecycle") < names.index("ShutdownNotifications")
    # Limits are enforced by killing the processor's process, not by dramatiq's injected exception.
    assert "TimeLimit" not in names


@pytest.fixture
def limited(redis_url: str, fast_settings: Settings) -> Iterator[Client]:
    settings = replace(
        fast_settings,
        processor_overrides=OVERRIDES,
        time_limits_s={**fast_settings.time_limits_s, "text_notes": 1},
    )
    with Client(redis_url, workers=1, settings=settings) as c:
        yield c


def test_time_limit_per_job_type_fails_the_job_permanently(limited: Client) -> None:
    job = limited.create_job("text_notes", plan(sleep=6, steps=60), max_retries=3)
    with pytest.raises(JobFailed, match="time limit of 1 s exceeded"):
        job.wait(timeout=30)
    assert job.refresh().record.retry_count == 0
    assert limited.create_job("text_notes", plan()).wait(timeout=30).status is JobStatus.COMPLETED
