"""The processor's side of an isolated job: a warm child process that runs one job at a time.

:mod:`~eduscribe_sdk._worker.isolation` starts it (multiprocessing's forkserver) and talks to it
over one pipe. The child never touches Redis: it sends progress reports, then the output or the
error, and the worker thread in the parent does every write. It lives in its own process group
(so that killing the group also stops what the processor started, such as ``tesseract``),
ignores the termination signals a service manager sends to the worker's whole group (the
worker decides when its children stop), and exits by itself within a second of its worker
disappearing.

Messages, parent to child: ``("settings", Settings)`` when they change, ``("job", job_type,
input_data, job_id, title, dependencies)``. Child to parent: ``("progress", percent)``, then
one ``("done", output, retire)`` or ``("error", exception, retire)``; ``retire`` asks the parent
to stop this child (its memory may be in a bad state after a ``MemoryError``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import resource
import signal
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from .._config import Settings
from .._processors import get_processor
from ..errors import (
    InvalidInputError,
    JobCancelled,
    JobMemoryLimitExceeded,
    PermanentError,
    TransientError,
)

__all__ = ["ChildContext", "child_main"]

_MB = 1024 * 1024


@dataclass
class ChildContext:
    """The :class:`JobContext` a processor gets in the child: progress goes to the parent.

    ``progress`` never raises here: a cancelled job's process is killed by the worker, whether
    or not the processor reports progress.
    """

    job_id: str
    title: str | None
    settings: Settings
    dependencies: Sequence[Mapping[str, Any]]
    conn: Connection = field(repr=False)
    # The claim stored 0 %: a processor's opening progress(0) would cost a round trip for
    # nothing (the parent checks for cancellation on its own clock anyway).
    _last: int = 0

    def progress(self, percent: float, message: str | None = None) -> None:
        value = max(0, min(100, int(percent)))
        # 100 comes with the result; an unchanged percent tells the parent nothing new (it
        # checks for cancellation on its own clock).
        if value == 100 or value == self._last:
            return
        self._last = value
        self.conn.send(("progress", value))


def child_main(conn: Connection, worker_pid: int) -> None:
    """The child's whole life: run jobs from ``conn`` until it closes or says stop."""
    os.setpgrp()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    threading.Thread(target=_watch_worker, args=(worker_pid,), name="eduscribe-watch", daemon=True).start()
    _thread_lock_for_progress_bars()
    settings = Settings()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] == "settings":
            settings = message[1]
            _limit_memory(settings.max_job_memory_mb)
        elif message[0] == "job":
            _, job_type, input_data, job_id, title, dependencies = message
            context = ChildContext(job_id, title, settings, dependencies, conn)
            try:
                if not _run_one(conn, context, job_type, input_data):
                    return
            except OSError:  # the worker closed the pipe (it stopped or died): nobody to answer
                return
        else:
            return


def _run_one(conn: Connection, context: ChildContext, job_type: str, input_data: Mapping[str, Any]) -> bool:
    """Run one job and answer; False when this child should stop afterwards."""
    retire = False
    try:
        processor = get_processor(job_type, context.settings.processor_overrides)
        reply: tuple[Any, ...] = ("done", processor(input_data, context), False)
    except MemoryError:
        limit = context.settings.max_job_memory_mb
        retire = True
        reply = (
            "error",
            JobMemoryLimitExceeded(f"the job needed more than {limit} MB", limit_mb=limit),
            True,
        )
    except BaseException as exc:  # the parent decides what every error means
        reply = ("error", _portable(exc), False)
    try:
        payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an output that does not pickle cannot be stored either
        payload = pickle.dumps(
            ("error", PermanentError(f"the processor's output cannot be stored: {exc}"), retire)
        )
    conn.send_bytes(payload)
    return not retire


def _portable(exc: BaseException) -> BaseException:
    """``exc`` with the child's traceback as a note, or a stand-in of the same kind when it
    would not survive the trip (an exception whose ``__init__`` takes other arguments)."""
    exc.add_note(
        "Traceback in the processor's process:\n" + "".join(traceback.format_exception(exc)).rstrip()
    )
    exc.__traceback__ = None
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        pass
    text = f"{type(exc).__name__}: {exc}"
    stand_in: BaseException
    for kind in (JobCancelled, InvalidInputError, PermanentError, TransientError):
        if isinstance(exc, kind):
            stand_in = kind(str(exc))
            break
    else:
        stand_in = RuntimeError(text)
    for note in getattr(exc, "__notes__", ()):
        stand_in.add_note(note)
    return stand_in


def _thread_lock_for_progress_bars() -> None:
    """tqdm's lock is a multiprocessing semaphore unless told otherwise, and libraries take it
    for their progress bars (faster-whisper does per transcription). A child killed on cancel,
    at a time limit or at shutdown cannot release it, and Python's resource tracker then warns
    of a "leaked semaphore" on the user's terminal. One process needs only a thread lock."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - a dependency of faster-whisper, so installed
        return
    tqdm.set_lock(threading.RLock())


def _limit_memory(limit_mb: int) -> None:
    """The soft address-space limit of this process; the hard limit stays, so it can change.

    RLIMIT_AS counts address space reserved, not memory used: glibc reserves 64 MB per malloc
    arena, one arena per thread up to 8 per core, so a processor with many threads (speech
    recognition) on a large machine could reach the limit with little memory in use. The
    child keeps to a few arenas (``mallopt(M_ARENA_MAX)``) before any limit applies.
    """
    _few_malloc_arenas()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = hard if limit_mb <= 0 else limit_mb * _MB
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


_M_ARENA_MAX = -8


def _few_malloc_arenas() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to tune
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, 4)


def _watch_worker(worker_pid: int) -> None:
    """Stop this child (and what it started) once its worker is gone (killed with -9).

    Two signs, checked every second: the worker's pid no longer exists, or the forkserver
    that forked this child (it exits with the worker) is gone, so the parent changed. The
    second also covers a worker that died but stays a zombie nobody reaps.
    """
    forkserver = os.getppid()
    while True:
        time.sleep(1.0)
        try:
            os.kill(worker_pid, 0)
            gone = os.getppid() != forkserver
        except (ProcessLookupError, PermissionError):  # PermissionError: a reused pid
            gone = True
        if gone:
            os.killpg(0, signal.SIGKILL)
