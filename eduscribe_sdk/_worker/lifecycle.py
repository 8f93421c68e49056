"""Dramatiq middleware that ties message processing to job records.

``JobLifecycle`` accepts the claim a message carries before the actor runs (a duplicate or
stale message is skipped), hands the actor a :class:`JobRun` on the message, and settles the
attempt afterwards: completed, failed (permanent error or retries used up), retried later
with exponential back-off, or requeued (worker shutting down). It acknowledges every message
in Redis, once: the settle call does it with the outcome, and a message that ends without
one (skipped, refused) is acknowledged alone, so the consumer only frees the slot.
"""

from __future__ import annotations

import logging
import random
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware, Shutdown, SkipMessage

from .._store import Settlement, Started, completion, delayed_retry, failure
from ..errors import (
    EduscribeError,
    InvalidInputError,
    JobCancelled,
    PermanentError,
    TransientError,
)
from .message import JobMessage
from .outage import persist
from .run import JobRun
from .runtime import WorkerRuntime

__all__ = ["JobLifecycle"]

logger = logging.getLogger("eduscribe.worker")
T = TypeVar("T")


def _details(exc: BaseException, run: JobRun, *, transient: bool) -> dict[str, Any]:
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc)),
        "attempt": run.started.attempt,
        "retry_count": run.started.retry_count,
        "transient": transient,
        "worker_id": run.worker_id,
    }


class JobLifecycle(Middleware):
    """Status tracking driven by dramatiq's hooks; actors themselves stay thin."""

    def __init__(self, runtime: WorkerRuntime) -> None:
        self.runtime = runtime

    @property
    def actor_options(self) -> set[str]:
        # Actors declare ``throws`` so that dramatiq logs an expected job failure in one line
        # instead of a traceback; the full details go to the job record.
        return {"throws"}

    def _persist(self, action: Callable[[], T], *, what: str) -> T:
        """Retry a store call through a Redis outage (up to ``outage_window_s``), so a
        finished job is neither left processing nor failed nor run again for a restart."""
        return persist(action, what=what, window_s=self.runtime.settings.outage_window_s)

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        if not isinstance(message, JobMessage):
            raise TypeError(f"{message!r} did not come from the EduScribe consumer")
        started = self._current_claim(message)
        if started is None:
            raise SkipMessage(f"job {message.message_id} is finished, cancelled or running elsewhere")
        runtime = self.runtime
        runtime.outcomes.running(started.id, started.attempt)
        message.accept(JobRun(started, runtime.store, runtime.worker_id, runtime.settings))

    def _current_claim(self, message: JobMessage) -> Started | None:
        """The message's claim if it still owns the job; a message without one claims it now."""
        store, worker_id = self.runtime.store, self.runtime.worker_id
        claim = message.claim
        if claim is None:
            return self._persist(lambda: store.start(message.message_id, worker_id), what="start a job")
        # A claim that sat here long (a stalled process) may have been taken over since.
        if time.monotonic() - message.fetched_at > self.runtime.settings.heartbeat_timeout_s / 2:
            verdict = self._persist(
                lambda: store.report_progress(claim.id, claim.attempt, 0, worker_id), what="check"
            )
            return claim if verdict == "ok" else None
        return claim

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if not isinstance(message, JobMessage) or message.run is None:
            self._acknowledge(message)  # refused before a run was accepted: nothing to record
            return
        run = message.run
        settle = self.runtime.settler.settle
        job_id, attempt = run.job_id, run.started.attempt
        if exception is None:
            output = run.output
            if not isinstance(output, dict):
                exception = PermanentError(f"processor returned {type(output).__name__}, not a dict")
            else:
                done = self._persist(lambda: settle(completion(job_id, attempt, output)), what="complete")
                if not done:
                    logger.info("job %s finished here but another attempt owns it; result dropped", job_id)
                return
        if isinstance(exception, JobCancelled):
            self._persist(lambda: settle(Settlement("ack", job_id, 0)), what="acknowledge a cancelled job")
        elif isinstance(exception, Shutdown):
            self._persist(lambda: settle(Settlement("requeue", job_id, attempt)), what="requeue")
        elif isinstance(exception, PermanentError | InvalidInputError):
            details = _details(exception, run, transient=False)
            text = str(exception)
            logger.warning("job %s failed: %s", job_id, text)
            self._persist(lambda: settle(failure(job_id, attempt, text, details)), what="fail")
        else:
            self._retry_or_fail(run, exception, settle)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        # Finished, cancelled or running elsewhere: it only leaves this worker's fetched set.
        self._acknowledge(message)

    def _acknowledge(self, message: MessageProxy) -> None:
        """Acknowledge a job that ends here without an outcome. Every message is acknowledged
        in Redis by this middleware, once: with its outcome (the settle call), or by this."""
        ack = Settlement("ack", message.message_id, 0)
        self._persist(lambda: self.runtime.settler.settle(ack), what="acknowledge a job")

    def _retry_or_fail(
        self, run: JobRun, exception: BaseException, settle: Callable[[Settlement], bool]
    ) -> None:
        # Unknown errors count as transient, like dramatiq's own default: a worker hiccup
        # should not fail a course. Processors raise PermanentError for bad input.
        job_id, attempt = run.job_id, run.started.attempt
        details = _details(exception, run, transient=True)
        text = (
            f"{type(exception).__name__}: {exception}"
            if not isinstance(exception, EduscribeError)
            else str(exception)
        )
        retries = run.started.retry_count
        if retries >= run.started.max_retries:
            final = f"gave up after {retries} retries: {text}" if retries else text
            logger.warning("job %s failed: %s", job_id, final)
            self._persist(lambda: settle(failure(job_id, attempt, final, details)), what="fail")
            return
        settings = run.settings
        delay = settings.retry_delay_ms * 2**retries
        if isinstance(exception, TransientError) and exception.retry_after:
            delay = max(delay, int(exception.retry_after * 1000))
        # Jitter spreads retries of jobs that failed together (e.g. one rate limit).
        delay = int(min(settings.max_retry_delay_ms, delay) * random.uniform(1.0, 1.25))
        logger.warning("job %s will be retried in %.1f s: %s", job_id, delay / 1000, text)
        self._persist(lambda: settle(delayed_retry(job_id, attempt, delay, text, details)), what="retry")
