"""Riding out a Redis outage (a restart, a failover) inside a worker.

Two rules, one per kind of write:

* A progress report is advice: while Redis is unreachable it is dropped, a warning is logged
  once per outage and run, and the next attempt waits (doubling back-off), so a processor
  never sees the outage and does not pay a socket timeout per report. The processor's own
  result does not depend on it, and the final settle records 100 %.
* An outcome is not: :func:`persist` retries the call that records it until Redis answers
  again, for up to ``Settings.outage_window_s``; only then does the error surface. Failing
  the job, or letting it be run again, for a 3 s restart would be the wrong trade.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from ..errors import RedisUnavailableError

__all__ = ["ProgressOutage", "persist"]

logger = logging.getLogger("eduscribe.worker")
T = TypeVar("T")

#: Back-off between attempts while Redis is away: from the first to the longest pause.
FIRST_PAUSE_S = 0.1
LONGEST_PAUSE_S = 2.0


def persist(action: Callable[[], T], *, what: str, window_s: float) -> T:
    """``action()``, retried through a Redis outage of up to ``window_s`` seconds.

    Raises the last :class:`RedisUnavailableError` when Redis stayed away longer.
    """
    deadline = time.monotonic() + window_s
    pause = FIRST_PAUSE_S
    warned = False
    while True:
        try:
            result = action()
        except RedisUnavailableError as exc:
            if time.monotonic() + pause > deadline:
                logger.error("Redis stayed unavailable for %g s; could not %s: %s", window_s, what, exc)
                raise
            if not warned:
                logger.warning("Redis unavailable while trying to %s; retrying for %g s", what, window_s)
                warned = True
            time.sleep(pause)
            pause = min(LONGEST_PAUSE_S, pause * 2)
        else:
            if warned:
                logger.info("Redis is back; could %s", what)
            return result


class ProgressOutage:
    """Whether a run's progress reports go to Redis now or are dropped (one per :class:`JobRun`)."""

    __slots__ = ("_pause", "_resume_at")

    def __init__(self) -> None:
        self._resume_at = 0.0
        self._pause = 0.0

    def dropping(self) -> bool:
        """True while reports are being dropped (Redis failed recently)."""
        return time.monotonic() < self._resume_at

    def failed(self, job_id: str, exc: RedisUnavailableError) -> None:
        """A report could not be written: drop it, and skip reports for a while."""
        if self._pause == 0.0:
            logger.warning("job %s: progress reports dropped while Redis is unavailable (%s)", job_id, exc)
        self._pause = min(LONGEST_PAUSE_S * 2, max(FIRST_PAUSE_S * 5, self._pause * 2))
        self._resume_at = time.monotonic() + self._pause

    def recovered(self) -> None:
        self._pause = 0.0
        self._resume_at = 0.0
