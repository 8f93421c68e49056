"""The consumer behind the logical queue: fetches and claims the best jobs for the free slots."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

import redis
from dramatiq.broker import Consumer, MessageProxy
from dramatiq.errors import ConnectionClosed

from ..errors import EduscribeError
from .message import JobMessage
from .runtime import WorkerRuntime

__all__ = ["PriorityConsumer"]


def _closed(exc: BaseException) -> ConnectionClosed:
    """What dramatiq's ConsumerThread expects: it restarts the consumer a second later."""
    return ConnectionClosed(exc)  # type: ignore[no-untyped-call]  # dramatiq's errors have no annotations


class PriorityConsumer(Consumer):
    """Fetches at most as many jobs as there are free job slots, best priority first."""

    def __init__(self, runtime: WorkerRuntime, *, prefetch: int, timeout: int) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.worker_id = runtime.worker_id
        # dramatiq's default prefetch is 2 x threads; prefetching more than there are free
        # threads would let a low job sit in memory ahead of an urgent one sent later.
        self.limit = max(1, min(prefetch // 2 or 1, runtime.settings.worker_threads))
        self.idle_wait_s = min(timeout / 1000, 1.0)
        self.cache: deque[JobMessage] = deque()
        self.outstanding = runtime.outstanding
        self.lock = runtime.outstanding_lock
        self.slot_freed = threading.Event()
        self.pubsub: Any = self.store.redis.pubsub(ignore_subscribe_messages=True)
        try:
            self.pubsub.subscribe(self.store.keys.wakeup)
            # Before fetching again after a connection error: if Redis restarted and lost
            # this worker's last claims, take them back before they are fetched (outcomes.py).
            runtime.reconcile()
        except (redis.ConnectionError, EduscribeError) as exc:
            raise _closed(exc) from None
        # From now on the runtime's held jobs and freed slots are this consumer's.
        runtime.consumer = self

    def __next__(self) -> MessageProxy | None:
        try:
            if self.cache:
                return self._deliver(self.cache.popleft())
            with self.lock:
                free = self.limit - len(self.outstanding) + self.runtime.settling()
            if free <= 0:
                # Every slot is busy: wait for one to free up rather than for new work.
                self.slot_freed.wait(self.idle_wait_s)
                self.slot_freed.clear()
                return None
            self._drain_wakeups()
            now = time.monotonic()
            for started in self.store.fetch_and_claim(self.worker_id, free):
                self.cache.append(JobMessage.claimed(started, fetched_at=now))
            if self.cache:
                return self._deliver(self.cache.popleft())
            self.pubsub.get_message(timeout=self.idle_wait_s)
            return None
        except (redis.ConnectionError, redis.TimeoutError, EduscribeError) as exc:
            raise _closed(exc) from None

    def _deliver(self, message: JobMessage) -> JobMessage:
        with self.lock:
            self.outstanding.add(message.message_id)
        return message

    def _drain_wakeups(self) -> None:
        while self.pubsub.get_message(timeout=0) is not None:
            pass

    def _release(self, message: MessageProxy) -> None:
        with self.lock:
            self.outstanding.discard(message.message_id)
        self.slot_freed.set()

    def ack(self, message: MessageProxy) -> None:
        # The lifecycle middleware acknowledged the job in Redis already (with its outcome, or
        # alone when it was skipped): what is left is the slot.
        self._release(message)

    # The lifecycle middleware records every failure on the job itself, so there is no
    # dead-letter queue: a rejected message is released like any other.
    nack = ack

    def requeue(self, messages: Iterable[MessageProxy]) -> None:
        for message in messages:
            self.store.unfetch(message.message_id, self.worker_id)
            self._release(message)
        for cached in self.cache:
            self.store.unfetch(cached.message_id, self.worker_id)
        self.cache.clear()

    def close(self) -> None:
        with contextlib.suppress(redis.RedisError):
            self.pubsub.close()

    def held(self) -> list[str]:
        # Called from the heartbeat thread while this consumer's thread appends to and pops
        # from its buffer without the lock: list() copies the deque in one step, where a
        # generator over it could raise "deque mutated during iteration" and end the heartbeat.
        buffered = list(self.cache)
        with self.lock:
            return [*self.outstanding, *(m.message_id for m in buffered)]
