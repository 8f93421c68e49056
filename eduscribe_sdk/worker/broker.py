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
them (one round trip instead of two per job); the lifecycle middleware picks the claim up.
Jobs enter the queues only through the store (``Client.create_job``, a dependency
completing, a retry falling due), never through ``actor.send``.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import dramatiq
from dramatiq.broker import Consumer
from dramatiq.message import Message
from dramatiq.middleware import Middleware, ShutdownNotifications, TimeLimit

from ..config import Settings
from ..errors import EduscribeError
from ..store import Started, Store
from .consumer import LOGICAL_QUEUE, PriorityConsumer
from .settling import Settler

__all__ = ["LOGICAL_QUEUE", "PriorityBroker"]


class PriorityBroker(dramatiq.Broker):
    """Dramatiq broker over the EduScribe job store. ``connect`` may come after actors are declared."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        settings: Settings | None = None,
        middleware: list[Middleware] | None = None,
    ) -> None:
        from .heartbeat import WorkerHeartbeat
        from .lifecycle import JobLifecycle

        if middleware is None:
            # Order matters: "after" hooks run in reverse, so the lifecycle settles a job only
            # after TimeLimit and ShutdownNotifications stopped watching the thread; an
            # asynchronous exception can then never land inside the settling Redis call.
            middleware = [
                JobLifecycle(),
                WorkerHeartbeat(),
                TimeLimit(),
                ShutdownNotifications(notify_shutdown=True),
            ]
        super().__init__(middleware=middleware)
        self.queues: set[str] = set()
        self.settings = settings or (store.settings if store else Settings.from_env())
        # Unique per process start: a restarted worker with the same WORKER_ID must not be
        # mistaken for the old one, whose jobs the maintenance pass has to requeue.
        self.worker_id = f"{self.settings.worker_id}/{uuid.uuid4().hex[:6]}"
        self._store = store
        self._settler: Settler | None = None
        self.consumer: PriorityConsumer | None = None
        # Jobs this process holds, shared by successive consumers: dramatiq restarts a
        # consumer after a connection error while worker threads still run its messages.
        self.outstanding: set[str] = set()
        self.outstanding_lock = threading.Lock()
        #: Claims made by fetch, waiting for their worker thread: job id -> (claim, when).
        self.claims: dict[str, tuple[Started, float]] = {}

    @property
    def store(self) -> Store:
        if self._store is None:
            raise EduscribeError(
                "the EduScribe broker is not connected: set EDUSCRIBE_REDIS_URL, or start a "
                "Client() first so that the embedded server's URL file exists"
            )
        return self._store

    @property
    def settler(self) -> Settler:
        """Records how attempts end; threads finishing together share one call."""
        if self._settler is None or self._settler.store is not self.store:
            self._settler = Settler(self.store, self.worker_id, on_queued=self._slot_freeing)
        return self._settler

    def settling(self) -> int:
        """Job slots whose job has finished running and whose outcome is being recorded."""
        return self._settler.settling if self._settler is not None else 0

    def _slot_freeing(self) -> None:
        # A job has finished running: its consumer may fetch the next one while the outcome
        # is being recorded, so that the thread finds work waiting when it is done.
        consumer = self.consumer
        if consumer is not None:
            consumer.slot_freed.set()

    def connect(self, store: Store) -> None:
        self._store = store

    @property
    def connected(self) -> bool:
        return self._store is not None

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 30000) -> Consumer:
        self.consumer = PriorityConsumer(self, prefetch=prefetch, timeout=timeout)
        return self.consumer

    def held_job_ids(self) -> list[str] | None:
        """Jobs this worker process holds (fetched, running or settling), or None if unknown."""
        consumer = self.consumer
        return consumer.held() if consumer is not None else None

    def declare_queue(self, queue_name: str) -> None:
        if queue_name not in self.queues:
            self.emit_before("declare_queue", queue_name)
            self.queues.add(queue_name)
            self.emit_after("declare_queue", queue_name)

    def enqueue(self, message: Message[Any], *, delay: int | None = None) -> Message[Any]:
        raise EduscribeError(
            "EduScribe jobs are enqueued by the job store; use Client.create_job() instead of actor.send()"
        )

    def get_declared_queues(self) -> set[str]:
        return set(self.queues)

    def get_declared_delay_queues(self) -> set[str]:
        return set()

    def flush(self, queue_name: str) -> None:
        raise EduscribeError("flush is not supported; cancel jobs with Client.cancel()")

    def flush_all(self) -> None:
        raise EduscribeError("flush_all is not supported; cancel jobs with Client.cancel()")

    def join(self, queue_name: str, *, timeout: int | None = None) -> None:
        raise EduscribeError("join is not supported; wait on jobs with Client.wait()")
