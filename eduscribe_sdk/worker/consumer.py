"""The consumer behind the logical queue: fetches (and claims) the best jobs for the free slots."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import redis
from dramatiq.broker import Consumer, MessageProxy
from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message

from ..errors import EduscribeError

if TYPE_CHECKING:
    from .broker import PriorityBroker

__all__ = ["LOGICAL_QUEUE", "PriorityConsumer"]

#: The one queue name dramatiq sees; the tier queues behind it are ``eduscribe.<priority>``.
LOGICAL_QUEUE = "eduscribe"


class PriorityConsumer(Consumer):
    """Fetches at most as many jobs as there are free job slots, best priority first."""

    def __init__(self, broker: PriorityBroker, *, prefetch: int, timeout: int) -> None:
        self.broker = broker
        self.store = broker.store
        # dramatiq's default prefetch is 2 x threads; prefetching more than there are free
        # threads would let a low job sit in memory ahead of an urgent one sent later.
        self.limit = max(1, min(prefetch // 2 or 1, broker.settings.worker_threads))
        self.idle_wait_s = min(timeout / 1000, 1.0)
        self.cache: deque[Message[Any]] = deque()
        self.outstanding = broker.outstanding
        self.lock = broker.outstanding_lock
        self.slot_freed = threading.Event()
        self.pubsub: Any = self.store.redis.pubsub(ignore_subscribe_messages=True)
        try:
            self.pubsub.subscribe(self.store.keys.wakeup)
        except redis.ConnectionError as exc:
            raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]

    def __next__(self) -> MessageProxy | None:
        try:
            if self.cache:
                return self._deliver(self.cache.popleft())
            with self.lock:
                free = self.limit - len(self.outstanding) + self.broker.settling()
            if free <= 0:
                # Every slot is busy: wait for one to free up rather than for new work.
                self.slot_freed.wait(self.idle_wait_s)
                self.slot_freed.clear()
                return None
            self._drain_wakeups()
            now = time.monotonic()
            for started in self.store.fetch_and_claim(self.broker.worker_id, free):
                self.broker.claims[started.id] = (started, now)
                self.cache.append(
                    Message(
                        queue_name=LOGICAL_QUEUE,
                        actor_name=started.job_type.value,
                        args=(started.id,),
                        kwargs={},
                        options={},
                        message_id=started.id,
                        message_timestamp=int(time.time() * 1000),
                    )
                )
            if self.cache:
                return self._deliver(self.cache.popleft())
            self.pubsub.get_message(timeout=self.idle_wait_s)
            return None
        except (redis.ConnectionError, redis.TimeoutError, EduscribeError) as exc:
            raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]

    def _deliver(self, message: Message[Any]) -> MessageProxy:
        with self.lock:
            self.outstanding.add(message.message_id)
        return MessageProxy(message)

    def _drain_wakeups(self) -> None:
        while self.pubsub.get_message(timeout=0) is not None:
            pass

    def _release(self, message: MessageProxy) -> None:
        with self.lock:
            self.outstanding.discard(message.message_id)
        self.slot_freed.set()

    def ack(self, message: MessageProxy) -> None:
        try:
            if not message.options.get("settled"):
                self.store.ack(message.message_id, self.broker.worker_id)
        except (redis.ConnectionError, EduscribeError) as exc:
            raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]
        finally:
            self._release(message)

    # The lifecycle middleware records every failure on the job itself, so there is no
    # dead-letter queue: a rejected message is simply acknowledged.
    nack = ack

    def requeue(self, messages: Iterable[MessageProxy]) -> None:
        for message in messages:
            self.broker.claims.pop(message.message_id, None)
            self.store.unfetch(message.message_id, self.broker.worker_id)
            self._release(message)
        for cached in self.cache:
            self.broker.claims.pop(cached.message_id, None)
            self.store.unfetch(cached.message_id, self.broker.worker_id)
        self.cache.clear()

    def close(self) -> None:
        with contextlib.suppress(redis.RedisError):
            self.pubsub.close()

    def held(self) -> list[str]:
        with self.lock:
            return [*self.outstanding, *(m.message_id for m in self.cache)]
