"""A dramatiq ``Worker`` inside the current process (embedded mode, notebooks, tests)."""

from __future__ import annotations

import threading
from dataclasses import replace

import dramatiq

from .._config import Settings
from .._store import Store
from .build import build_broker

__all__ = ["InProcessWorker"]

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
            # dramatiq's CLI emits "process_boot" once per process; middleware may start on it.
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
