"""Worker registration and heartbeats, so that a dead worker's jobs are requeued within seconds."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

import dramatiq
from dramatiq.middleware import Middleware

from ..errors import EduscribeError
from .runtime import WorkerRuntime

__all__ = ["WorkerHeartbeat"]

logger = logging.getLogger("eduscribe.worker")


class WorkerHeartbeat(Middleware):
    """Registers the worker and beats every ``heartbeat_interval_s`` from its own thread."""

    def __init__(self, runtime: WorkerRuntime) -> None:
        self.runtime = runtime
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        runtime = self.runtime
        self._stop.clear()
        started_at = time.time()
        threads = min(worker.worker_threads, runtime.settings.worker_threads)

        def beat_once() -> None:
            # First: a restart or failover that lost this worker's last outcomes leaves their
            # jobs processing here, and the beat below would put them back to run again.
            runtime.reconcile()
            beat = runtime.store.heartbeat(
                runtime.worker_id,
                host=socket.gethostname(),
                pid=os.getpid(),
                threads=threads,
                started_at=started_at,
                held=runtime.held_job_ids(),
                # Far above the fetch-to-deliver gap, so a job just fetched is never taken back.
                grace_s=runtime.settings.heartbeat_timeout_s,
            )
            if beat.requeued:
                logger.warning("%d job(s) Redis believed this worker held went back in line", beat.requeued)
            # Operators' restart requests reach a worker here (its consumer only sees that
            # fetches bring nothing): every worker beats, busy or idle.
            runtime.follow(beat.asked, beat.holding)

        def beat() -> None:
            while not self._stop.wait(runtime.settings.heartbeat_interval_s):
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
        runtime = self.runtime
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            runtime.store.leave(runtime.worker_id)
        except EduscribeError as exc:
            logger.warning("could not deregister worker %s: %s", runtime.worker_id, exc)
