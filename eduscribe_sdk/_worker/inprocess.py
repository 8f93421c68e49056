"""A dramatiq ``Worker`` inside the current process (embedded mode, notebooks, tests)."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

import dramatiq

from .._config import Settings
from .._store import Store
from .build import build_broker

__all__ = ["InProcessWorker"]

logger = logging.getLogger("eduscribe.worker")

_process_booted: set[int] = set()
_boot_lock = threading.Lock()


class InProcessWorker:
    """A dramatiq Worker with ``threads`` job slots, running in this process.

    Asked to restart (``Client.restart_workers``), it is its own supervisor: once idle it
    stops and starts again as a new worker, with a new id.
    """

    def __init__(self, store: Store, *, settings: Settings, threads: int | None = None) -> None:
        threads = threads or settings.worker_threads
        self.settings = replace(settings, worker_threads=threads)
        self.store = store
        self.started = False
        # Start, stop and restart one at a time: a restart must not start a worker that
        # close() is stopping.
        self._lock = threading.Lock()
        self._build()

    def _build(self) -> None:
        self.broker = build_broker(self.store, self.settings)
        self.broker.runtime.on_restart = self._restart_soon
        self.worker = dramatiq.Worker(
            self.broker, worker_threads=self.settings.worker_threads, worker_timeout=1000
        )

    @property
    def worker_id(self) -> str:
        return self.broker.worker_id

    def start(self) -> None:
        with self._lock:
            self._start()

    def _start(self) -> None:
        with _boot_lock:
            # dramatiq's CLI emits "process_boot" once per process; middleware may start on it.
            if id(self.broker) not in _process_booted:
                self.broker.emit_after("process_boot")
                _process_booted.add(id(self.broker))
        self.worker.start()
        self.started = True

    def stop(self, timeout_s: float = 10.0) -> None:
        with self._lock:
            self._stop(timeout_s)

    def _stop(self, timeout_s: float) -> None:
        if not self.started:
            return
        self.started = False
        self.worker.stop(timeout=int(timeout_s * 1000))
        self.broker.close()
        with _boot_lock:
            # Another broker may be given this one's id() once it is gone.
            _process_booted.discard(id(self.broker))

    def _restart_soon(self) -> None:
        # Called by the heartbeat thread, which stopping the worker joins: a thread of our own
        # (not one of dramatiq's, which stop() waits for) does the restart.
        threading.Thread(target=self._restart, name="eduscribe-restart", daemon=True).start()

    def _restart(self) -> None:
        with self._lock:
            if not self.started:
                return  # closed meanwhile: nothing to start again
            old = self.worker_id
            self._stop(10.0)
            self._build()
            self._start()
        logger.info("in-process worker %s restarted as %s", old, self.worker_id)
