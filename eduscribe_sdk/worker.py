"""Actors and in-process workers.

Every job type has one actor on the logical queue ``eduscribe``; all of them run the same
thin function: take the claimed job from the lifecycle middleware, call the job type's
processor, return its output. ``InProcessWorker`` runs a dramatiq ``Worker`` inside the
current process (embedded mode, notebooks, tests).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

import dramatiq
from dramatiq.middleware import Shutdown, TimeLimitExceeded

from .broker import LOGICAL_QUEUE, PriorityBroker
from .config import Settings
from .errors import EduscribeError
from .middleware import current_run
from .models import JobType
from .processors import get_processor
from .store import Store

__all__ = ["InProcessWorker", "build_broker", "declare_actors", "run_job"]

logger = logging.getLogger("eduscribe.worker")


def run_job(job_id: str) -> None:
    run = current_run()
    if run.job_id != job_id:  # pragma: no cover - the middleware guarantees this
        raise RuntimeError(f"message for {job_id} carries the claim of {run.job_id}")
    processor = get_processor(run.started.job_type, run.settings.processor_overrides)
    # Handed to the lifecycle middleware on the run, not returned: dramatiq warns about
    # return values unless a result backend is configured, and we store results ourselves.
    run.output = processor(run.started.input_data, run)


def declare_actors(broker: PriorityBroker) -> dict[JobType, dramatiq.Actor[Any, Any]]:
    """One actor per job type, bound to ``broker`` (not to dramatiq's global broker)."""
    actors: dict[JobType, dramatiq.Actor[Any, Any]] = {}
    for job_type in JobType:
        declare = dramatiq.actor(
            actor_name=job_type.value,
            queue_name=LOGICAL_QUEUE,
            broker=broker,
            time_limit=broker.settings.time_limit_ms(job_type.value),
            notify_shutdown=True,
            # Expected outcomes: the lifecycle middleware records them on the job.
            throws=(EduscribeError, Shutdown, TimeLimitExceeded),
        )
        actors[job_type] = declare(run_job)
    return actors


def build_broker(store: Store | None, settings: Settings) -> PriorityBroker:
    broker = PriorityBroker(store, settings=settings)
    declare_actors(broker)
    return broker


_process_booted: set[int] = set()
_boot_lock = threading.Lock()


class InProcessWorker:
    """A dramatiq Worker with ``threads`` job slots, running in this process."""

    def __init__(self, store: Store, *, settings: Settings, threads: int | None = None) -> None:
        threads = threads or settings.worker_threads
        self.settings = replace(settings, worker_threads=threads)
        self.broker = build_broker(store, self.settings)
        self.worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=1000)
        self.started = False

    @property
    def worker_id(self) -> str:
        return self.broker.worker_id

    def start(self) -> None:
        with _boot_lock:
            # TimeLimit's watchdog starts on "process_boot"; each broker needs it once.
            if id(self.broker) not in _process_booted:
                self.broker.emit_after("process_boot")
                _process_booted.add(id(self.broker))
        self.worker.start()
        self.started = True

    def stop(self, timeout_s: float = 10.0) -> None:
        if not self.started:
            return
        self.started = False
        self.worker.stop(timeout=int(timeout_s * 1000))
        self.broker.close()
