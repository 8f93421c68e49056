"""Group commit for the ends of attempts: one settle call for the threads that finish together.

A worker thread that finishes a job must record the outcome before it takes the next one
(a crash after that point must not lose the result). Each such call is a Redis round trip
and a Lua script run with a fixed cost; with eight threads running short jobs, several
finish while one call is in flight. :class:`Settler` lets the first of them make the call
and the others wait; when it returns, one of the waiters takes everything queued meanwhile
in a single ``settle_many`` call. Nobody waits longer than one call in flight plus its own,
and an idle worker pays nothing extra: a lone settlement goes out at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from .._store import Settlement, Store
from ..errors import RedisUnavailableError

__all__ = ["Settler"]


class _Pending:
    __slots__ = ("done", "error", "settlement", "verdict")

    def __init__(self, settlement: Settlement) -> None:
        self.settlement = settlement
        self.done = False
        self.verdict = False
        self.error: BaseException | None = None


class Settler:
    """Settles attempts of one worker; calls from many threads share round trips."""

    def __init__(
        self,
        store: Store,
        worker_id: str,
        *,
        on_queued: Callable[[], None] | None = None,
        on_result: Callable[[Sequence[Settlement], Sequence[bool] | None], None] | None = None,
    ) -> None:
        self.store = store
        self.worker_id = worker_id
        self._on_queued = on_queued
        #: Told what each call recorded (its verdicts), or that Redis was unavailable (None).
        self._on_result = on_result
        self._changed = threading.Condition()
        self._queue: list[_Pending] = []
        self._in_flight = False
        #: Attempts queued or in flight: their jobs are done running, their slots all but free.
        self.settling = 0

    def settle(self, settlement: Settlement) -> bool:
        """Record one outcome; True if the attempt was still current. Raises what the store
        raised for the call that carried it (RedisUnavailableError: nothing was recorded)."""
        mine = _Pending(settlement)
        with self._changed:
            self._queue.append(mine)
            self.settling += 1
        if self._on_queued is not None:
            self._on_queued()
        with self._changed:
            while not mine.done and self._in_flight:
                self._changed.wait()
            if mine.done:
                return self._result(mine)
            batch, self._queue, self._in_flight = self._queue, [], True
        self._send(batch)
        return self._result(mine)

    def _send(self, batch: list[_Pending]) -> None:
        verdicts: list[bool] = []
        error: BaseException | None = None
        try:
            verdicts = self.store.settle_many(self.worker_id, [p.settlement for p in batch])
            if self._on_result is not None:
                self._on_result([p.settlement for p in batch], verdicts)
        except BaseException as exc:  # every waiter gets it, and the next caller can go on
            error = exc
            if isinstance(exc, RedisUnavailableError) and self._on_result is not None:
                self._on_result([p.settlement for p in batch], None)
        finally:
            with self._changed:
                for i, pending in enumerate(batch):
                    pending.done = True
                    pending.error = error
                    pending.verdict = i < len(verdicts) and verdicts[i]
                self._in_flight = False
                self.settling -= len(batch)
                self._changed.notify_all()

    @staticmethod
    def _result(pending: _Pending) -> bool:
        if pending.error is not None:
            raise pending.error
        return pending.verdict
