"""A dramatiq broker with strict priority across the four tier queues.

Dramatiq's own RedisBroker gives every queue its own consumer, so tiers drain side by side
and actor priority only orders what was already prefetched. Here a worker has one consumer
for the logical queue ``eduscribe``; each fetch is one Lua step (``lua/fetch.lua``) that
takes the job with the best *effective* priority across ``eduscribe.urgent`` … ``eduscribe.low``
(aging promotes old jobs one tier per ``EDUSCRIBE_AGING_SECONDS``). Prefetch is capped at the
number of job slots, so a job is never held back behind a lower-priority one that was fetched
earlier.

Idle consumers wait on a pub/sub wake-up published by every script that queues work, so a
job sent to an idle worker starts within milliseconds instead of after a polling interval.

Messages are not stored separately: a message *is* a job id, rebuilt from the record on
fetch. Since a consumer fetches only as many jobs as it has free slots, the fetch also claims
them (one round trip instead of two per job); the claim rides on the message
(:class:`~eduscribe_sdk._worker.message.JobMessage`) to the lifecycle middleware.
Jobs enter the queues only through the store (``Client.create_job``, a dependency
completing, a retry falling due), never through ``actor.send``.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.broker import Consumer
from dramatiq.message import Message
from dramatiq.middleware import Middleware

from ..errors import UnsupportedOperationError
from .consumer import PriorityConsumer
from .message import LOGICAL_QUEUE
from .runtime import WorkerRuntime

__all__ = ["LOGICAL_QUEUE", "PriorityBroker"]


class PriorityBroker(dramatiq.Broker):
    """Dramatiq broker over the EduScribe job store, for one worker process (``runtime``).

    ``middleware`` is the whole stack (see :func:`~eduscribe_sdk._worker.build.middleware_stack`):
    dramatiq's defaults (Retries, AgeLimit, Prometheus…) must not be added behind our back.
    """

    def __init__(self, runtime: WorkerRuntime, *, middleware: list[Middleware]) -> None:
        super().__init__(middleware=middleware)
        self.runtime = runtime
        self.queues: set[str] = set()

    @property
    def worker_id(self) -> str:
        return self.runtime.worker_id

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 30000) -> Consumer:
        return PriorityConsumer(self.runtime, prefetch=prefetch, timeout=timeout)

    def declare_queue(self, queue_name: str) -> None:
        if queue_name not in self.queues:
            self.emit_before("declare_queue", queue_name)
            self.queues.add(queue_name)
            self.emit_after("declare_queue", queue_name)

    def enqueue(self, message: Message[Any], *, delay: int | None = None) -> Message[Any]:
        raise UnsupportedOperationError(
            "EduScribe jobs are enqueued by the job store; use Client.create_job() instead of actor.send()"
        )

    def get_declared_queues(self) -> set[str]:
        return set(self.queues)

    def get_declared_delay_queues(self) -> set[str]:
        return set()

    def flush(self, queue_name: str) -> None:
        raise UnsupportedOperationError("flush is not supported; cancel jobs with Client.cancel()")

    def flush_all(self) -> None:
        raise UnsupportedOperationError("flush_all is not supported; cancel jobs with Client.cancel()")

    def join(self, queue_name: str, *, timeout: int | None = None) -> None:
        raise UnsupportedOperationError("join is not supported; wait on jobs with Client.wait()")
