"""Processors in child processes the worker can kill: hard cancel, time and memory limits.

Every job's processor runs in a warm child process (:mod:`~eduscribe_sdk._worker.child`), one
per job slot, reused from job to job; the worker thread that owns the job waits for it and
does every Redis write (progress, cancellation checks, the outcome). Because the thread only
waits, it can act whatever the processor is doing, even inside a C call that never returns:

* **cancel**: the thread checks the job every :data:`CANCEL_CHECK_S` (and at each progress
  report); once it is cancelled (or another attempt owns it) it kills the child's process group
  and the slot is free;
* **time limit**: at the job type's limit (``Settings.time_limits_s``) the child is killed and
  the job fails with :class:`~eduscribe_sdk.errors.JobTimeLimitExceeded`;
* **memory limit**: the child's address space is capped (``RLIMIT_AS``); a processor that hits
  it fails with :class:`~eduscribe_sdk.errors.JobMemoryLimitExceeded`, and the child is replaced;
* **crash**: a child that dies without an answer fails the attempt with
  :class:`~eduscribe_sdk.errors.ProcessorCrashed` (transient: retried up to ``max_retries``);
* **shutdown**: dramatiq's ``Shutdown`` reaches the waiting thread within a poll interval; it
  kills the child and the lifecycle puts the job back in line.

Children come from multiprocessing's forkserver: a clean single-threaded process started once
per worker, so a child is a cheap fork of it rather than of the threaded worker (forking a
process with threads can copy locks held by other threads).
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import weakref
from multiprocessing.connection import Connection
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from .._config import Settings
from ..errors import JobTimeLimitExceeded, ProcessorCrashed
from .child import child_main
from .run import JobRun

__all__ = ["CANCEL_CHECK_S", "ChildPool", "ChildProcess", "ChildProcesses"]


#: How often a job that reports no progress is checked for cancellation (a Redis read only:
#: progress.lua writes nothing when the percent is unchanged). Cancel frees a slot within
#: this plus a round trip.
CANCEL_CHECK_S = 0.5

_CONTEXT = multiprocessing.get_context("forkserver")
# The forkserver imports these once; every child starts with them loaded.
_CONTEXT.set_forkserver_preload(["eduscribe_sdk._worker.child", "eduscribe_sdk._processors.text"])


#: Every child of this process: an exit that skipped the worker's shutdown (dramatiq's "exit
#: now" on a second SIGTERM) must not wait in multiprocessing's exit hook for a child that is
#: busy with a job and ignores SIGTERM.
_ALIVE: weakref.WeakSet[ChildProcess] = weakref.WeakSet()


@atexit.register  # registered after multiprocessing's own exit hook, so it runs before it
def _stop_all() -> None:
    for child in list(_ALIVE):
        child.stop()


_START_LOCK = threading.Lock()


def _start_without_main(process: multiprocessing.process.BaseProcess) -> None:
    """Start ``process`` without it running the caller's main script again.

    multiprocessing has a new child import the parent's ``__main__`` (its file, or the module
    of ``python -m``) so that what was defined there unpickles; a script that starts a Client
    at top level, with no ``if __name__ == "__main__":`` guard (the README's tour), would then
    start one in every child, which fails. The child's target and arguments come from this
    package, so the main module is hidden from the child's preparation data while it starts.
    """
    main = sys.modules["__main__"]
    with _START_LOCK:
        saved: dict[str, Any] = {n: main.__dict__[n] for n in ("__file__", "__spec__") if n in main.__dict__}
        main.__dict__.pop("__file__", None)
        main.__dict__["__spec__"] = None
        try:
            process.start()
        finally:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)


class ChildProcess:
    """One warm child process and the pipe to it."""

    def __init__(self) -> None:
        parent_end, child_end = _CONTEXT.Pipe(duplex=True)
        self.process = _CONTEXT.Process(
            target=child_main, args=(child_end, os.getpid()), name="eduscribe-processor", daemon=True
        )
        _start_without_main(self.process)
        _ALIVE.add(self)
        child_end.close()
        self.conn: Connection = parent_end
        self.settings: Settings | None = None
        #: A job was sent and its answer has not come: the child cannot be reused.
        self.busy = False
        #: The child asked to be replaced after its last answer.
        self.retired = False

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def run(self, run: JobRun, begun: float) -> dict[str, Any]:
        """Run ``run``'s job in this child: the processor's output, or what it raised.

        ``begun`` (``time.monotonic()``) is when the job's time started counting.
        """
        if run.settings is not self.settings:
            self.conn.send(("settings", run.settings))
            self.settings = run.settings
        started = run.started
        self.busy = True
        self.conn.send(
            (
                "job",
                started.job_type.value,
                started.input_data,
                started.id,
                started.title,
                list(started.dependencies),
            )
        )
        limit_s = run.settings.time_limit_ms(started.job_type.value) / 1000
        deadline = begun + limit_s
        next_check = time.monotonic() + CANCEL_CHECK_S
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise JobTimeLimitExceeded(f"time limit of {limit_s:g} s exceeded", limit_s=limit_s)
            if self.conn.poll(min(deadline, next_check) - now):
                reply = self._receive()
                if reply[0] == "progress":
                    # Writes the percent and raises JobCancelled once the job was cancelled.
                    run.progress(reply[1])
                    next_check = time.monotonic() + CANCEL_CHECK_S
                    continue
                self.busy, self.retired = False, bool(reply[2])
                if reply[0] == "done":
                    return reply[1]  # type: ignore[no-any-return]
                raise reply[1]
            if time.monotonic() >= next_check:
                run.check_still_wanted()
                next_check = time.monotonic() + CANCEL_CHECK_S

    def _receive(self) -> tuple[Any, ...]:
        try:
            return self.conn.recv()  # type: ignore[no-any-return]
        except (EOFError, OSError):
            self.process.join(timeout=2)
            code = self.process.exitcode
            how = (
                f"signal {signal.Signals(-code).name}"
                if code is not None and code < 0
                else f"exit code {code}"
            )
            raise ProcessorCrashed(f"the processor's process died ({how})", exit_code=code) from None

    def stop(self) -> None:
        """Kill the child and everything it started (its own process group)."""
        pid = self.process.pid
        if pid is not None and self.process.exitcode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.conn.close()
        self.process.join(timeout=5)


class ChildPool:
    """The warm children of one worker process, handed to job slots as they run jobs."""

    def __init__(self) -> None:
        self._idle: list[ChildProcess] = []
        self._running: set[ChildProcess] = set()
        self._lock = threading.Lock()
        self._closed = False

    def warm(self, count: int) -> None:
        """Start children up to ``count`` idle ones, so the first jobs do not wait for them."""
        while True:
            with self._lock:
                if self._closed or len(self._idle) + len(self._running) >= count:
                    return
            child = ChildProcess()
            with self._lock:
                if self._closed:
                    child.stop()
                    return
                self._idle.append(child)

    def run(self, run: JobRun) -> dict[str, Any]:
        """The job's processor output, computed in a child; raises what the attempt ended with."""
        begun = time.monotonic()  # a child that has to be started first counts against the limit
        with self._lock:
            child = self._idle.pop() if self._idle else None
        if child is None:
            child = ChildProcess()
        with self._lock:
            self._running.add(child)
        try:
            return child.run(run, begun)
        finally:
            with self._lock:
                self._running.discard(child)
                reuse = not (child.busy or child.retired or self._closed) and child.process.is_alive()
                if reuse:
                    self._idle.append(child)
            if not reuse:
                # Cancelled, over its limit, shutting down, crashed or retired: the processor
                # may still be running, so the child goes, whatever it was doing.
                child.stop()

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return [c.pid for c in (*self._idle, *self._running) if c.pid is not None]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            children, self._idle = [*self._idle, *self._running], []
        for child in children:
            child.stop()


class ChildProcesses(Middleware):
    """Starts a worker's children with the worker and stops them with it."""

    def __init__(self, pool: ChildPool, slots: int) -> None:
        self.pool = pool
        self.slots = slots

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        slots = min(self.slots, worker.worker_threads)
        threading.Thread(target=self.pool.warm, args=(slots,), name="eduscribe-warm", daemon=True).start()

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.pool.close()
