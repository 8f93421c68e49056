"""The message a worker thread gets: a job id, with the claim the fetch made riding along."""

from __future__ import annotations

import time
from typing import Any

from dramatiq.broker import MessageProxy
from dramatiq.message import Message

from .._store import Started
from .run import JobRun

__all__ = ["LOGICAL_QUEUE", "JobMessage"]

#: The one queue name dramatiq sees; the tier queues behind it are ``eduscribe.<priority>``.
LOGICAL_QUEUE = "eduscribe"


class JobMessage(MessageProxy):
    """One delivery of one job to this worker process, from fetch to acknowledgement.

    dramatiq's Worker passes this very object to every hook, to the actor call
    (``actor(*message.args, **message.kwargs)``) and back to the consumer's ``ack``, so what
    the consumer, the lifecycle middleware and the actor tell each other travels on it.
    """

    def __init__(self, message: Message[Any], *, claim: Started | None, fetched_at: float) -> None:
        super().__init__(message)
        #: The attempt the fetch claimed for this worker; None for a message that still has to
        #: be claimed (the lifecycle middleware then claims it with start.lua).
        self.claim = claim
        #: ``time.monotonic()`` at fetch: a claim that waited long is checked again before it runs.
        self.fetched_at = fetched_at
        #: The attempt the lifecycle middleware accepted; the actor's argument and its output.
        self.run: JobRun | None = None

    @classmethod
    def claimed(cls, started: Started, *, fetched_at: float) -> JobMessage:
        """The message for a job the fetch has just claimed: its id is the message id."""
        message: Message[Any] = Message(
            queue_name=LOGICAL_QUEUE,
            actor_name=started.job_type.value,
            args=(started.id,),
            kwargs={},
            options={},
            message_id=started.id,
            message_timestamp=int(time.time() * 1000),
        )
        return cls(message, claim=started, fetched_at=fetched_at)

    def accept(self, run: JobRun) -> None:
        """Hand the actor its run: the Worker calls ``actor(*message.args)``. Logs still show
        the job id, since they print the Message underneath, whose arguments do not change."""
        self.run = run
        self.args = (run,)
