"""Worker registration and heartbeats, so that a dead worker's jobs are requeued within seconds."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import TYPE_CHECKING

import dramatiq
from dramatiq.middleware import Middleware

from ..errors import EduscribeError

if TYPE_CHECKING:
    from .broker import PriorityBroker

__all__ = ["WorkerHeartbeat"]

logger = logging.getLogger("eduscribe.worker")


class WorkerHeartbeat(Middleware):
    """Registers the worker and beats every ``heartbeat_interval_s`` from its own thread."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        pbroker: PriorityBroker = broker  # type: ignore[assignment]
        self._stop.clear()
        started_at = time.time()
        threads = min(worker.worker_threads, pbroker.settings.worker_threads)

        def beat_once() -> None:
            requeued = pbroker.store.heartbeat(
                pbroker.worker_id,
                host=socket.gethostname(),
                pid=os.getpid(),
                threads=threads,
                started_at=started_at,
                held=pbroker.held_job_ids(),
                # Far above the fetch-to-deliver gap, so a job just fetched is never taken back.
                grace_s=pbroker.settings.heartbeat_timeout_s,
            )
            if requeued:
                logger.warning("%d job(s) Redis believed this worker held went back in line", requeued)

        def beat() -> None:
            while not self._stop.wait(pbroker.settings.heartbeat_interval_s):
                try:
                    beat_once()
                except EduscribeError as exc:
                    logger.warning("heartbeat failed: %s", exc)

        # The first beat is synchronous, so a worker is listed with its details as soon as
        # it has started (its consumer may already have fetched).
        try:
            beat_once()
        except EduscribeError as exc:
            logger.warning("heartbeat failed: %s", exc)
        self._thread = threading.Thread(target=beat, name="eduscribe-heartbeat", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        pbroker: PriorityBroker = broker  # type: ignore[assignment]
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            pbroker.store.leave(pbroker.worker_id)
        except EduscribeError as exc:
            logger.warning("could not deregister worker %s: %s", pbroker.worker_id, exc)
