"""What this worker did in the moments a Redis restart or failover may have forgotten.

Redis acknowledges a write before it is safe: with ``appendfsync everysec`` the last second
or two is not on disk yet (a host crash loses it), and a replica is a little behind its
primary (a failover loses that). A claim or an outcome written then can vanish, and without
help the job would run again: a lost outcome leaves it ``processing`` on this worker, which
the heartbeat then puts back in line; a lost claim puts it back in the queue while it runs
here.

:class:`OutcomeLog` keeps, per worker process, the attempts it is running and the outcomes
it recorded that may not be durable yet (younger than :data:`DURABLE_AFTER_S` at the last
check). :meth:`OutcomeLog.check` runs after every heartbeat and when a consumer starts (after
a connection error): it asks the server for its run id, which changes when Redis restarted
or another server took over. Unchanged, the old entries are durable and forgotten. Changed,
the worker reconciles (``reconcile.lua``, one atomic call): its lost claims are taken back
before another worker runs them, and its lost outcomes are recorded again. The heartbeat
checks before it beats, since the beat puts back in line the jobs Redis believes this
worker holds and it does not (which a lost outcome looks like).

The log also keeps the outcomes that could not be recorded at all (Redis stayed away longer
than ``EDUSCRIBE_OUTAGE_WINDOW_SECONDS``, and the worker thread gave up waiting): the first
check after Redis is back records them, before the heartbeat would put their jobs back in
line to run again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from .._store import Settlement, Store

__all__ = ["DURABLE_AFTER_S", "OutcomeLog"]

logger = logging.getLogger("eduscribe.worker")

#: A write this old is on disk (AOF everysec: one second, two when a slow fsync postpones the
#: write) and on the replicas (milliseconds behind), with room to spare.
DURABLE_AFTER_S = 3.0
#: Outcomes worth replaying: the others (ack, requeue, unfetch) end with the job back in line
#: or untouched, which is what Redis shows when they are lost.
_REPLAYED_OPS = frozenset({"complete", "fail", "retry"})


class OutcomeLog:
    """Running claims and recent outcomes of one worker process, for :meth:`check`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}
        self._settled: dict[str, tuple[Settlement, float]] = {}
        #: Outcomes not recorded: Redis stayed away longer than the outage window.
        self._pending: dict[str, Settlement] = {}
        self._server: str | None = None

    def running(self, job_id: str, attempt: int) -> None:
        """An attempt claimed by this worker starts running here."""
        with self._lock:
            self._running[job_id] = attempt

    def recorded(self, settlements: Sequence[Settlement], verdicts: Sequence[bool] | None) -> None:
        """A settle call returned ``verdicts`` (True: recorded, False: stale), or found Redis
        unavailable (None): those outcomes wait in the log for :meth:`check` to record them."""
        now = time.monotonic()
        with self._lock:
            for i, settlement in enumerate(settlements):
                job_id = settlement.job_id
                if verdicts is None:
                    if settlement.op in _REPLAYED_OPS:
                        self._pending[job_id] = settlement
                    continue
                self._running.pop(job_id, None)
                self._pending.pop(job_id, None)
                if i < len(verdicts) and verdicts[i] and settlement.op in _REPLAYED_OPS:
                    self._settled[job_id] = (settlement, now)

    def check(self, store: Store, worker_id: str, settle: Callable[[Settlement], bool]) -> int:
        """Record the outcomes that waited past the outage window; reconcile with the server
        if it is not the one that took the recent writes. Returns how many outcomes were
        recorded again after a reconcile. Raises what the store raises."""
        server = store.server_id()
        started = time.monotonic()
        with self._lock:
            pending = list(self._pending.values())
        for settlement in pending:
            # The job is still processing on this worker (settle refuses anything else as
            # stale): recording it now keeps the heartbeat from putting it back to run again.
            settle(settlement)
        if pending:
            logger.warning(
                "Redis is back: recorded %d outcome(s) that waited past the outage window", len(pending)
            )
        with self._lock:
            if self._server is None or server == self._server:
                self._server = server
                self._forget(started - DURABLE_AFTER_S)
                return 0
            running = list(self._running.items())
            settled = [(job_id, s.attempt) for job_id, (s, _) in self._settled.items()]
        lost = store.reconcile(worker_id, running, settled)
        for job_id in lost:
            with self._lock:
                entry = self._settled.get(job_id)
            if entry is not None:
                settle(entry[0])
        with self._lock:
            self._server = server
            self._forget(started - DURABLE_AFTER_S)
        logger.warning(
            "Redis restarted or failed over: checked %d running job(s) and %d recent outcome(s) "
            "of this worker; recorded %d lost outcome(s) again",
            len(running),
            len(settled),
            len(lost),
        )
        return len(lost)

    def _forget(self, before: float) -> None:
        for job_id in [j for j, (_, at) in self._settled.items() if at < before]:
            del self._settled[job_id]
