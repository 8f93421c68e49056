"""What one worker process's broker, consumer and middleware share.

dramatiq hands each hook the ``dramatiq.Broker`` and nothing else. EduScribe's middleware
and consumer are constructed with a :class:`WorkerRuntime` instead, so that no hook has to
downcast the broker to reach the store, the settler, the worker id or the jobs it holds.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._config import Settings
from .._store import Store
from ..errors import ConfigError
from .isolation import ChildPool
from .outcomes import OutcomeLog
from .settling import Settler

if TYPE_CHECKING:
    from .consumer import PriorityConsumer

__all__ = ["WorkerRuntime"]

logger = logging.getLogger("eduscribe.worker")


class WorkerRuntime:
    """One worker process: its identity, its store, its settler and the jobs it holds."""

    def __init__(self, store: Store | None, settings: Settings) -> None:
        self.settings = settings
        # Unique per process start: a restarted worker with the same WORKER_ID must not be
        # mistaken for the old one, whose jobs the maintenance pass has to requeue.
        self.worker_id = f"{settings.worker_id}/{uuid.uuid4().hex[:6]}"
        self._store = store
        self._settler: Settler | None = None
        #: The consumer fetching for this process now (dramatiq replaces it after a connection error).
        self.consumer: PriorityConsumer | None = None
        # Jobs handed to worker threads and not yet acknowledged. Shared by successive
        # consumers: dramatiq restarts a consumer while worker threads still run its messages.
        self.outstanding: set[str] = set()
        self.outstanding_lock = threading.Lock()
        #: Running claims and recent outcomes, to reconcile after Redis lost its last writes.
        self.outcomes = OutcomeLog()
        #: The warm child processes that run this worker's processors (isolation.py).
        self.children = ChildPool()
        #: How this worker restarts when operators ask (Client.restart_workers): set by who
        #: runs it, the ``dramatiq`` CLI (actors.py) or InProcessWorker. None: it cannot,
        #: and a restart request is only a drain.
        self.on_restart: Callable[[], None] | None = None
        self._restarting = False

    @property
    def store(self) -> Store:
        if self._store is None:
            raise ConfigError(
                "the EduScribe worker has no Redis: set it, or start a Client() first so that "
                "the embedded server's URL file exists",
                setting="EDUSCRIBE_REDIS_URL",
            )
        return self._store

    @property
    def settler(self) -> Settler:
        """Records how attempts end; threads finishing together share one call."""
        if self._settler is None:
            self._settler = Settler(
                self.store, self.worker_id, on_queued=self._slot_freeing, on_result=self.outcomes.recorded
            )
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

    def held_job_ids(self) -> list[str] | None:
        """Jobs this worker process holds (fetched, running or settling), or None if unknown."""
        consumer = self.consumer
        return consumer.held() if consumer is not None else None

    def follow(self, asked: str, redis_holds: int) -> None:
        """Act on what operators ask (the heartbeat's reply): restart once idle.

        Idle means this process holds no job (fetched, running or settling) *and* Redis says
        it holds none: a fetch whose reply is still being read shows only in Redis. A
        restarting worker's fetches get nothing (fetch.lua), so idle stays idle.
        """
        if asked != "restart" or self._restarting or redis_holds:
            return
        held = self.held_job_ids()
        if held is None or held:
            return
        if self.on_restart is None:
            logger.warning("asked to restart, but this worker cannot restart itself: it stays drained")
            self._restarting = True
            return
        logger.info("worker %s holds no job: restarting, as asked", self.worker_id)
        self._restarting = True
        self.on_restart()

    def reconcile(self) -> int:
        """Check whether Redis lost this worker's last writes, and repair (``outcomes.py``)."""
        return self.outcomes.check(self.store, self.worker_id, self.settler.settle)
